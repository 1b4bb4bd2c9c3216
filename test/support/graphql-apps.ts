/**
 * The GraphQL drivers the e2e suites run on: `@nestjs/apollo` on Express and on Fastify, and
 * `@nestjs/mercurius` on Fastify, each with its default context (nothing passed for sessions),
 * code-first (`autoSchemaFile: true`: the schema in memory), and graphql-ws subscriptions on
 * `/graphql`. Plus an operation helper over supertest.
 */
import type { DynamicModule, INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request, { type Response } from 'supertest';
import { type SubscriptionSessionOptions, subscriptionSessionLoader } from '../../lib';
import { createAppOn, type HttpAdapterKind, initApp } from './http-adapters';

export type GraphqlDriverKind = 'apollo-express' | 'apollo-fastify' | 'mercurius';

/** Every driver; `GRAPHQL_DRIVER=mercurius` (etc.) keeps one while iterating. */
export const GRAPHQL_DRIVERS: readonly GraphqlDriverKind[] = process.env.GRAPHQL_DRIVER
  ? [process.env.GRAPHQL_DRIVER as GraphqlDriverKind]
  : ['apollo-express', 'apollo-fastify', 'mercurius'];

/** The HTTP adapter a driver runs on. */
export function adapterOf(driver: GraphqlDriverKind): HttpAdapterKind {
  return driver === 'apollo-express' ? 'express' : 'fastify';
}

/** `GraphQLModule.forRoot(...)` for `driver`, with subscriptions over graphql-ws when asked. */
export function graphqlModuleFor(
  driver: GraphqlDriverKind,
  subscriptions: boolean | SubscriptionSessionOptions = false,
): DynamicModule {
  // Required here, as an application imports them: the suites never load an unused driver.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { GraphQLModule } = require('@nestjs/graphql') as typeof import('@nestjs/graphql');
  if (driver === 'mercurius') {
    const { MercuriusDriver } = require('@nestjs/mercurius') as typeof import('@nestjs/mercurius');
    return GraphQLModule.forRoot({
      driver: MercuriusDriver,
      autoSchemaFile: true,
      graphiql: false,
      // Mercurius loads its query cache (quick-lru) with a dynamic `import()`, which Jest's VM
      // refuses without --experimental-vm-modules; the cache of parsed queries has no part in
      // sessions. Applications (and the sample) keep the default.
      cache: false,
      subscription: subscriptions !== false,
    });
  }
  const { ApolloDriver } = require('@nestjs/apollo') as typeof import('@nestjs/apollo');
  const { ModuleRef } = require('@nestjs/core') as typeof import('@nestjs/core');
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (!subscriptions) {
    return GraphQLModule.forRoot({ driver: ApolloDriver, autoSchemaFile: true, playground: false });
  }
  // graphql-ws reads the upgrade request's session in onConnect (the README's configuration).
  const loaderOptions = subscriptions === true ? {} : subscriptions;
  return GraphQLModule.forRootAsync({
    driver: ApolloDriver,
    inject: [ModuleRef],
    useFactory: (moduleRef: InstanceType<typeof ModuleRef>) => ({
      autoSchemaFile: true,
      playground: false,
      subscriptions: {
        'graphql-ws': { onConnect: subscriptionSessionLoader(moduleRef, loaderOptions) },
      },
    }),
  });
}

/** Boots a Nest application (no listen) with `metadata` plus the driver's GraphQLModule. */
export async function bootGraphqlApp(
  driver: GraphqlDriverKind,
  metadata: ModuleMetadata,
  subscriptions: boolean | SubscriptionSessionOptions = false,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    imports: [...(metadata.imports ?? []), graphqlModuleFor(driver, subscriptions)],
  }).compile();
  return initApp(createAppOn(moduleRef, adapterOf(driver)));
}

/** One GraphQL error as the drivers answer it. */
export interface GraphqlErrorBody {
  message: string;
  extensions?: Record<string, unknown>;
}

/** A GraphQL answer: its HTTP response and the parsed `data` / `errors`. */
export interface GraphqlAnswer<T> {
  res: Response;
  data: T | null | undefined;
  errors: GraphqlErrorBody[] | undefined;
}

/** POSTs one operation to `/graphql`, with `cookie` and other `headers` when given. */
export async function graphql<T = Record<string, unknown>>(
  app: INestApplication,
  query: string,
  options: {
    cookie?: string;
    headers?: Record<string, string>;
    variables?: Record<string, unknown>;
  } = {},
): Promise<GraphqlAnswer<T>> {
  let req = request(app.getHttpServer()).post('/graphql').set('content-type', 'application/json');
  if (options.cookie) req = req.set('cookie', options.cookie);
  if (options.headers) req = req.set(options.headers);
  const res = await req.send({ query, variables: options.variables ?? {} });
  const body = res.body as { data?: T | null; errors?: GraphqlErrorBody[] };
  return { res, data: body.data, errors: body.errors };
}
