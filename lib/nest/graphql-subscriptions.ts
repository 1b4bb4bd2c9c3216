/**
 * Sessions in GraphQL subscriptions over WebSocket (graphql-ws): the upgrade request never
 * passes through the HTTP middleware, so its session is read in graphql-ws' `onConnect`, once
 * per connection, read only (never created, touched or sent back). The subscription resolvers
 * then find it through the GraphQL context (`extra.request`, see `graphql-context.ts`).
 */
import type { IncomingMessage } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import type { SessionEngine } from '../engine/lifecycle/session-engine';
import { loadSocketSession } from '../engine/lifecycle/socket-session';
import { SESSION_ENGINE } from './session.constants';

/** What graphql-ws hands `onConnect`: its context, with the upgrade request in `extra`. */
export interface GraphqlWsConnectContext {
  readonly extra: { readonly request: IncomingMessage };
}

/** Options of {@link subscriptionSessionLoader}. */
export interface SubscriptionSessionOptions {
  /**
   * Refuse a connection whose upgrade request carries no valid existing session (default
   * `false`: it connects with no session, and guarded subscriptions refuse themselves). graphql-ws
   * closes a refused connection with code 4403 (Forbidden).
   */
  requireSession?: boolean;
}

/** Where the session engine is found: a `ModuleRef`, or the application itself. */
export type SessionEngineSource = Pick<INestApplicationContext, 'get'>;

/** The application's session engine (`SessionModule` must be imported). */
function engineOf(app: SessionEngineSource): SessionEngine<unknown> {
  let engine: SessionEngine<unknown> | undefined;
  try {
    engine = app.get<symbol, SessionEngine<unknown>>(SESSION_ENGINE, { strict: false });
  } catch {
    engine = undefined;
  }
  if (!engine) {
    throw new Error('nest-session: subscriptionSessionLoader needs SessionModule imported');
  }
  return engine;
}

/**
 * graphql-ws' `onConnect` that reads the session of the connection's upgrade request (the
 * signed cookie, or the `header` option's header), read only, before graphql-ws acknowledges
 * the connection: `@Session()`, `@SessionId()` and `SessionGuard` then work in subscription
 * resolvers. Pass it the `ModuleRef` (or the application) from `GraphQLModule.forRootAsync`:
 *
 * ```ts
 * GraphQLModule.forRootAsync<ApolloDriverConfig>({
 *   driver: ApolloDriver,
 *   inject: [ModuleRef],
 *   useFactory: (moduleRef: ModuleRef) => ({
 *     autoSchemaFile: true,
 *     subscriptions: { 'graphql-ws': { onConnect: subscriptionSessionLoader(moduleRef) } },
 *   }),
 * })
 * ```
 *
 * Resolves `false` (graphql-ws closes with 4403) for a connection without a session when
 * `requireSession` is set. A store failure rejects: graphql-ws closes the socket with 4500 and
 * the error's message.
 */
export function subscriptionSessionLoader(
  app: SessionEngineSource,
  options: SubscriptionSessionOptions = {},
): (context: GraphqlWsConnectContext) => Promise<boolean> {
  let engine: SessionEngine<unknown> | undefined;
  return async (context) => {
    engine ??= engineOf(app);
    const state = await loadSocketSession(engine, context.extra.request);
    return options.requireSession ? state.exists : true;
  };
}
