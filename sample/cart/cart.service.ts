import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { CartLine } from '../session/session-data';
import { CatalogService } from './catalog';

/** The cart as the API shows it. */
export interface CartView {
  items: (CartLine & { name: string; price: number; subtotal: number })[];
  total: number;
}

const MAX_QUANTITY = 99;

/**
 * The cart's rules, shared by the REST controller and the GraphQL resolver: the cart itself is
 * a list of lines kept in the session, which the caller reads and writes.
 */
@Injectable()
export class CartService {
  constructor(private readonly catalog: CatalogService) {}

  /**
   * `cart` with `count` (default 1) more of `productId` (a new list: the caller stores it in the session).
   * 404 for an unknown product, 400 for a bad quantity or more than 99 of a product.
   */
  add(cart: readonly CartLine[], productId: unknown, count?: unknown): CartLine[] {
    const quantity = count ?? 1;
    const id = typeof productId === 'string' ? productId : '';
    if (!this.catalog.find(id)) throw new NotFoundException(`No product "${id}"`);
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
      throw new BadRequestException('quantity must be a positive integer');
    }
    const next = cart.map((line) => ({ ...line }));
    const line = next.find((l) => l.productId === id);
    const total = (line?.quantity ?? 0) + quantity;
    if (total > MAX_QUANTITY) {
      throw new BadRequestException(`at most ${MAX_QUANTITY} of a product`);
    }
    if (line) line.quantity = total;
    else next.push({ productId: id, quantity });
    return next;
  }

  /** The cart's lines with names, prices and the total (unknown products left out). */
  view(cart: readonly CartLine[]): CartView {
    const items = cart.flatMap((line) => {
      const product = this.catalog.find(line.productId);
      if (!product) return [];
      const { name, price } = product;
      return [{ ...line, name, price, subtotal: price * line.quantity }];
    });
    return { items, total: items.reduce((sum, i) => sum + i.subtotal, 0) };
  }
}
