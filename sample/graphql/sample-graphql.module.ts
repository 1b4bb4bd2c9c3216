import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { AuthModule } from '../auth/auth.module';
import { CartService } from '../cart/cart.service';
import { CatalogService } from '../cart/catalog';
import { AccountResolver } from './account.resolver';
import { CartResolver } from './cart.resolver';

/**
 * `POST /graphql` (Apollo, on Express or Fastify alike): `me`, `cart`, `addToCart`, `login`,
 * `logout`. Nothing session-specific in the driver's config: its default context holds the HTTP
 * request (`req`), where the decorators and the guard find the session. Code-first, the schema
 * built in memory (`autoSchemaFile: true`).
 */
@Module({
  imports: [
    AuthModule,
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      // The playground (outside production) must send the session cookie with its requests.
      playground: { settings: { 'request.credentials': 'include' } },
    }),
  ],
  providers: [AccountResolver, CartResolver, CartService, CatalogService],
})
export class SampleGraphqlModule {}
