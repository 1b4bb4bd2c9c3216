import { Args, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { type RequestSession, Session, type SessionValue } from '../../lib';
import { CartService, type CartView } from '../cart/cart.service';
import { CartModel } from './graphql.models';

/** The session's cart over GraphQL (the same cart as `/cart`): anonymous visitors have one too. */
@Resolver(() => CartModel)
export class CartResolver {
  constructor(private readonly carts: CartService) {}

  /** `{ cart { items { name quantity } total } }`: a read, nothing is saved. */
  @Query(() => CartModel)
  cart(@Session('shoppingCart') cart: SessionValue<'shoppingCart'>): CartView {
    return this.carts.view(cart ?? []);
  }

  /** `mutation { addToCart(productId: "tea", quantity: 2) { total } }`: saved with the response. */
  @Mutation(() => CartModel)
  addToCart(
    @Session() session: RequestSession,
    @Args('productId') productId: string,
    @Args('quantity', { type: () => Int, nullable: true }) quantity?: number,
  ): CartView {
    session.shoppingCart = this.carts.add(session.shoppingCart ?? [], productId, quantity);
    return this.carts.view(session.shoppingCart);
  }
}
