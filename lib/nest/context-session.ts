import type { ExecutionContext } from '@nestjs/common';
import type { SessionRequest } from '../engine/session';
import { SessionRequiredException } from './session.exceptions';

/**
 * How one kind of Nest execution context (`context.getType()`: `'http'`, `'graphql'`, `'ws'`,
 * ...) reaches the session: the decorators (`@Session()`, `@SessionId()`) and `SessionGuard`
 * go through it, so they work the same in a controller, a resolver and a gateway.
 * @internal
 */
export interface ContextSessionResolver {
  /** The object carrying `session` / `sessionID` for this call (an HTTP request, most often). */
  request(context: ExecutionContext): SessionRequest | undefined;
  /** Throws this context's "no (sufficient) session" error. */
  reject(context: ExecutionContext, message: string): never;
  /**
   * Throws this context's "forbidden" error (`CsrfGuard`'s refusals). Absent: the guard throws
   * its HTTP exception (403).
   */
  forbid?(context: ExecutionContext, message: string): never;
  /**
   * True when the call is of a kind that must not change state whatever the HTTP method carrying
   * it (a GraphQL query): `CsrfGuard` lets it through as it does a safe method. Absent: only the
   * method decides.
   */
  readOnly?(context: ExecutionContext): boolean;
}

const httpResolver: ContextSessionResolver = {
  request: (context) => context.switchToHttp().getRequest<SessionRequest>(),
  reject: (_context, message) => {
    throw new SessionRequiredException(message);
  },
};

const resolvers = new Map<string, ContextSessionResolver>([['http', httpResolver]]);

/**
 * Teaches the decorators and the guard another context type. Called once, at load, by the file
 * that supports it (an adapter's subpath export, or the built-in GraphQL support).
 * @internal
 */
export function registerContextSessionResolver(
  type: string,
  resolver: ContextSessionResolver,
): void {
  resolvers.set(type, resolver);
}

/**
 * The resolver for `context`'s type. An unsupported type fails with a message saying what to do,
 * rather than answering `undefined` as if there were no session.
 * @internal
 */
export function contextSessionResolver(context: ExecutionContext): ContextSessionResolver {
  const type = context.getType<string>();
  const resolver = resolvers.get(type);
  if (resolver) return resolver;
  throw new Error(
    `nest-session: no session support for the '${type}' execution context` +
      (type === 'ws'
        ? ' (install the session adapter on the gateway server: SessionIoAdapter or SessionWsAdapter)'
        : ''),
  );
}
