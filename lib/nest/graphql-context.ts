/**
 * Sessions in GraphQL resolvers (`@nestjs/graphql` with `@nestjs/apollo` on Express or Fastify,
 * or `@nestjs/mercurius`): the `'graphql'` execution context of the decorators and the guard.
 *
 * Nothing here loads `graphql` or `@nestjs/graphql`: the resolver reads the resolver's
 * arguments as Nest hands them (`[root, args, context, info]`), and `graphql` is required only
 * to throw the rejection, which happens inside a GraphQL operation (so it is installed).
 *
 * Where the request is in the GraphQL context, with each driver's default context:
 * - `req`: Apollo on Express (the Express request), Apollo on Fastify and Mercurius (the
 *   `FastifyRequest`, which reads the session on `request.raw` through the Fastify integration's
 *   accessors);
 * - `reply.request`: Mercurius, whatever the application's own context holds;
 * - `request`: a custom context naming it so;
 * - `extra.request` (or `req.extra.request`, as Apollo wraps it): a subscription over graphql-ws,
 *   whose upgrade request carries the session `subscriptionSessionLoader` read.
 * @internal
 */
import type { ExecutionContext } from '@nestjs/common';
import type { SessionRequest } from '../engine/session';
import { type ContextSessionResolver, registerContextSessionResolver } from './context-session';

type Bag = Record<string, unknown>;

function isObject(value: unknown): value is Bag {
  return typeof value === 'object' && value !== null;
}

/** True for what can carry a session: an HTTP request (Node's, Express's, Fastify's). */
function isRequest(value: unknown): value is SessionRequest {
  return isObject(value) && isObject(value.headers);
}

/**
 * The GraphQL context among a resolver's arguments: the third for field resolvers
 * (`root, args, context, info`), the second for reference and type resolvers (`root, context,
 * info`), as `GqlExecutionContext` normalizes them.
 */
export function graphqlContextOf(context: ExecutionContext): Bag | undefined {
  const args = context.getArgs<unknown[]>();
  const third = args[2];
  if (isObject(third) && args.length >= 4) return third;
  const second = args[1];
  return isObject(second) ? second : isObject(third) ? third : undefined;
}

/** The HTTP request in a GraphQL context, or `undefined`. */
export function requestInGraphqlContext(gql: Bag | undefined): SessionRequest | undefined {
  if (!gql) return undefined;
  if (isRequest(gql.req)) return gql.req;
  const reply = gql.reply;
  if (isObject(reply) && isRequest(reply.request)) return reply.request;
  if (isRequest(gql.request)) return gql.request;
  return upgradeRequestOf(gql) ?? (isObject(gql.req) ? upgradeRequestOf(gql.req) : undefined);
}

/** The upgrade request in a graphql-ws context (`extra.request`), or `undefined`. */
function upgradeRequestOf(wsContext: Bag): SessionRequest | undefined {
  const extra = wsContext.extra;
  return isObject(extra) && isRequest(extra.request) ? extra.request : undefined;
}

/** `GraphQLError` from the application's `graphql` (never loaded before a rejection). */
function graphqlError(): typeof import('graphql').GraphQLError {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('graphql') as typeof import('graphql')).GraphQLError;
}

/**
 * The kind of operation running (`'query'`, `'mutation'`, `'subscription'`), read from the
 * resolver's `info` (the fourth argument of a field resolver, the third of a reference
 * resolver), or `undefined` when there is none.
 */
export function graphqlOperationOf(context: ExecutionContext): string | undefined {
  const args = context.getArgs<unknown[]>();
  const info = args.length >= 4 ? args[3] : args[2];
  const operation = isObject(info) ? info.operation : undefined;
  return isObject(operation) && typeof operation.operation === 'string'
    ? operation.operation
    : undefined;
}

/** The error code an operation refused for want of a session answers with (`extensions.code`). */
export const UNAUTHENTICATED = 'UNAUTHENTICATED';

/** The error code an operation refused by `CsrfGuard` answers with (`extensions.code`). */
export const FORBIDDEN = 'FORBIDDEN';

/** Throws a `GraphQLError` with `message` and `extensions.code: code`. */
function refusal(code: string): (context: ExecutionContext, message: string) => never {
  return (_context, message) => {
    const GraphQLError = graphqlError();
    throw new GraphQLError(message, { extensions: { code } });
  };
}

/**
 * The `'graphql'` resolver. It refuses with a `GraphQLError` carrying `extensions.code`
 * `'UNAUTHENTICATED'` (no session) or `'FORBIDDEN'` (`CsrfGuard`): Apollo and Mercurius both keep
 * a `GraphQLError`'s extensions as they are (Apollo maps a 401 or 403 `HttpException` to the same
 * codes, Mercurius does not). Queries and subscriptions are read-only: `CsrfGuard` checks
 * mutations only.
 */
export const graphqlSessionResolver: ContextSessionResolver = {
  request: (context) => requestInGraphqlContext(graphqlContextOf(context)),
  reject: refusal(UNAUTHENTICATED),
  forbid: refusal(FORBIDDEN),
  readOnly: (context) => {
    const operation = graphqlOperationOf(context);
    return operation === 'query' || operation === 'subscription';
  },
};

registerContextSessionResolver('graphql', graphqlSessionResolver);
