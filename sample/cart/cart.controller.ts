import {
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
import { CartService, type CartView } from './cart.service';

export type { CartView } from './cart.service';

/** A shopping cart kept in the session (anonymous visitors get one too). */
@Controller('cart')
export class CartController {
  constructor(private readonly carts: CartService) {}

  /** `GET /cart`: the cart's lines with prices. */
  @Get()
  list(@Session('shoppingCart') cart: SessionValue<'shoppingCart'>): CartView {
    return this.carts.view(cart ?? []);
  }

  /** `POST /cart/items` with `{ productId, quantity? }`: adds to the cart. */
  @Post('items')
  @HttpCode(200)
  add(
    @Session() session: RequestSession,
    @Body() body: { productId?: unknown; quantity?: unknown },
  ): CartView {
    session.shoppingCart = this.carts.add(
      session.shoppingCart ?? [],
      body?.productId,
      body?.quantity,
    );
    return this.carts.view(session.shoppingCart);
  }

  /** `DELETE /cart/items/:productId`: removes a product from the cart. */
  @Delete('items/:productId')
  remove(@Session() session: RequestSession, @Param('productId') productId: string): CartView {
    const cart = session.shoppingCart ?? [];
    if (!cart.some((l) => l.productId === productId)) {
      throw new NotFoundException(`"${productId}" is not in the cart`);
    }
    session.shoppingCart = cart.filter((l) => l.productId !== productId);
    return this.carts.view(session.shoppingCart);
  }
}
