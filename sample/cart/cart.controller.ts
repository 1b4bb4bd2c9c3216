import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { type RequestSession, Session, type SessionValue } from '../../lib';
import type { CartLine } from '../session/session-data';
import { CatalogService } from './catalog';

/** The cart as the API shows it. */
export interface CartView {
  items: (CartLine & { name: string; price: number; subtotal: number })[];
  total: number;
}

const MAX_QUANTITY = 99;

/** A shopping cart kept in the session (anonymous visitors get one too). */
@Controller('cart')
export class CartController {
  constructor(private readonly catalog: CatalogService) {}

  /** `GET /cart`: the cart's lines with prices. */
  @Get()
  list(@Session('shoppingCart') cart: SessionValue<'shoppingCart'>): CartView {
    return this.view(cart ?? []);
  }

  /** `POST /cart/items` with `{ productId, quantity? }`: adds to the cart. */
  @Post('items')
  @HttpCode(200)
  add(
    @Session() session: RequestSession,
    @Body() body: { productId?: unknown; quantity?: unknown },
  ): CartView {
    const productId = typeof body?.productId === 'string' ? body.productId : '';
    if (!this.catalog.find(productId)) throw new NotFoundException(`No product "${productId}"`);
    const quantity = body.quantity ?? 1;
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
      throw new BadRequestException('quantity must be a positive integer');
    }
    const cart = [...(session.shoppingCart ?? [])];
    const line = cart.find((l) => l.productId === productId);
    const total = (line?.quantity ?? 0) + quantity;
    if (total > MAX_QUANTITY) {
      throw new BadRequestException(`at most ${MAX_QUANTITY} of a product`);
    }
    if (line) line.quantity = total;
    else cart.push({ productId, quantity });
    session.shoppingCart = cart;
    return this.view(cart);
  }

  /** `DELETE /cart/items/:productId`: removes a product from the cart. */
  @Delete('items/:productId')
  remove(@Session() session: RequestSession, @Param('productId') productId: string): CartView {
    const cart = session.shoppingCart ?? [];
    if (!cart.some((l) => l.productId === productId)) {
      throw new NotFoundException(`"${productId}" is not in the cart`);
    }
    session.shoppingCart = cart.filter((l) => l.productId !== productId);
    return this.view(session.shoppingCart);
  }

  private view(cart: readonly CartLine[]): CartView {
    const items = cart.flatMap((line) => {
      const product = this.catalog.find(line.productId);
      if (!product) return [];
      const { name, price } = product;
      return [{ ...line, name, price, subtotal: price * line.quantity }];
    });
    return { items, total: items.reduce((sum, i) => sum + i.subtotal, 0) };
  }
}
