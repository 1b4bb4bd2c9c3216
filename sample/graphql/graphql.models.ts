import { Field, Int, ObjectType } from '@nestjs/graphql';

/** The signed-in user, as the GraphQL API shows it. */
@ObjectType('User')
export class UserModel {
  @Field() username!: string;
  @Field() displayName!: string;
  @Field(() => [String]) roles!: string[];
}

/** One line of the cart, with its product's name and price (in cents). */
@ObjectType('CartLine')
export class CartLineModel {
  @Field() productId!: string;
  @Field(() => Int) quantity!: number;
  @Field() name!: string;
  @Field(() => Int) price!: number;
  @Field(() => Int) subtotal!: number;
}

/** The cart kept in the session. */
@ObjectType('Cart')
export class CartModel {
  @Field(() => [CartLineModel]) items!: CartLineModel[];
  @Field(() => Int) total!: number;
}
