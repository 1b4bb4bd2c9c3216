import { Injectable } from '@nestjs/common';

/** A product of the shop. */
export interface Product {
  id: string;
  name: string;
  /** Price in cents. */
  price: number;
}

const PRODUCTS: readonly Product[] = [
  { id: 'tea', name: 'Mad Hatter tea', price: 450 },
  { id: 'cake', name: 'EAT ME cake', price: 300 },
  { id: 'hammer', name: 'Claw hammer', price: 1299 },
];

/** The product catalog (in memory for the sample). */
@Injectable()
export class CatalogService {
  find(id: string): Product | undefined {
    return PRODUCTS.find((p) => p.id === id);
  }

  list(): readonly Product[] {
    return PRODUCTS;
  }
}
