import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { requestState } from '../engine/request-state';
import type { RequestSession, SessionRequest } from '../engine/session';
import { REQUIRED_SESSION_KEYS, SESSION_OPTIONAL } from './session-metadata';
import { contextSessionResolver } from './context-session';

/**
 * Lets a request through only when it carries a session that existed before this request (read
 * from the store, not just created), holding every key named with `RequireSession`.
 * Otherwise throws {@link SessionRequiredException} (401).
 *
 * Use it per route (`@UseGuards(SessionGuard)`, or `@RequireSession('userId')` which applies it),
 * or globally (`{ provide: APP_GUARD, useClass: SessionGuard }`) with `OptionalSession` on
 * public routes. Subclass it to change the check ({@link SessionGuard.isSatisfied}) or the error
 * ({@link SessionGuard.reject}).
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(protected readonly reflector: Reflector) {}

  /** Nest's guard entry point. */
  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride(SESSION_OPTIONAL, targets)) return true;
    const keys = this.reflector.getAllAndMerge(REQUIRED_SESSION_KEYS, targets) ?? [];
    const req = this.getRequest(context);
    if (!req || !this.hasExistingSession(req)) return this.reject(context, 'A session is required');
    const session = req.session as RequestSession;
    if (!this.isSatisfied(session, keys, context)) {
      return this.reject(context, 'The session lacks what this route requires');
    }
    return true;
  }

  /**
   * The object carrying the session in this execution context (the HTTP request for controllers
   * and resolvers, the socket's handshake state in gateways). Override for other transports.
   */
  protected getRequest(context: ExecutionContext): SessionRequest | undefined {
    return contextSessionResolver(context).request(context);
  }

  /** True when the request's session was loaded from the store (it existed before this request). */
  protected hasExistingSession(req: SessionRequest): boolean {
    return (
      requestState<{ loadedFromStore?: boolean }>(req)?.loadedFromStore === true &&
      Boolean(req.session)
    );
  }

  /** True when every required key is set (neither undefined nor null). Override for custom checks. */
  protected isSatisfied(
    session: RequestSession,
    keys: readonly string[],
    _context: ExecutionContext,
  ): boolean {
    const data = session as unknown as Record<string, unknown>;
    return keys.every((key) => data[key] !== undefined && data[key] !== null);
  }

  /**
   * Refuses the request with the context's error: {@link SessionRequiredException} (401) on
   * HTTP. Override to throw another exception.
   */
  protected reject(context: ExecutionContext, message: string): never {
    return contextSessionResolver(context).reject(context, message);
  }
}
