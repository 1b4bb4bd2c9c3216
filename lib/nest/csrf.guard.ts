import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { checkCsrfToken } from '../engine/csrf-token';
import type { SessionRequest } from '../engine/session';
import { contextSessionResolver } from './context-session';
import type { ResolvedCsrfOptions } from './csrf-options';
import { type CsrfFailure, CsrfTokenException } from './csrf.exception';
import { SKIP_CSRF } from './csrf.decorators';
import type { ResolvedModuleOptions } from './resolve-module-options';
import { SESSION_RESOLVED_OPTIONS } from './session.constants';

type TokenRequest = SessionRequest & { body?: unknown };

const MESSAGES: Record<CsrfFailure, (options: ResolvedCsrfOptions) => string> = {
  missing: ({ field, header }) =>
    `CSRF token missing: send the session's token in the "${field}" field or the "${header}" header`,
  invalid: () =>
    'CSRF token invalid: it does not belong to this session (expired, or from before sign-in). ' +
    'Reload the page and try again',
};

/**
 * Refuses (403, {@link CsrfTokenException}) a state-changing request (every method but those of
 * the `csrf.ignoreMethods` option: GET, HEAD, OPTIONS) unless it carries a token of its own
 * session (`@CsrfToken()`, `csrfTokenOf(req)`) in the `x-csrf-token` header or the `_csrf`
 * body field (the `csrf` option names them). The synchronizer token pattern: the token is bound
 * to the session, so a page of another site, which cannot read it, cannot forge a request.
 *
 * Let through without a token: safe methods (which create nothing), handlers and controllers
 * marked {@link SkipCsrf}, and requests carrying the session id in the module's `header` option
 * (a browser never adds a custom header to a cross-site request by itself, so such a request
 * cannot be forged the way a cookie one can).
 *
 * Per route `@UseGuards(CsrfGuard)`, or globally `{ provide: APP_GUARD, useClass: CsrfGuard }`.
 * It reaches the request through the execution context's session support, so it also checks the
 * HTTP request of a GraphQL call: a mutation sent by POST needs the token (in the header); a
 * query or a subscription, GraphQL's read-only operations, passes as a safe method does; a
 * refusal there is a `GraphQLError` with `extensions.code: 'FORBIDDEN'`. Subclass it to change
 * {@link CsrfGuard.tokenOf} or {@link CsrfGuard.reject}.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  /** Where the token is looked for, and the methods not checked. */
  protected readonly csrf: ResolvedCsrfOptions;
  /** The module's `header` option, lower case (undefined: cookie only). */
  private readonly sessionHeader: string | undefined;

  constructor(
    protected readonly reflector: Reflector,
    @Inject(SESSION_RESOLVED_OPTIONS) options: ResolvedModuleOptions,
  ) {
    this.csrf = options.csrf;
    this.sessionHeader = options.engine.header?.toLowerCase();
  }

  /** Nest's guard entry point. */
  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride(SKIP_CSRF, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const resolver = contextSessionResolver(context);
    const req = resolver.request(context) as TokenRequest | undefined;
    // No HTTP request behind this call (a message on an open socket): nothing a form can forge.
    const method = req?.method?.toUpperCase();
    if (!req || method === undefined || this.csrf.ignoreMethods.has(method)) return true;
    // A call that must not change state whatever its method (a GraphQL query sent by POST).
    if (resolver.readOnly?.(context) === true) return true;
    if (this.sessionHeader !== undefined && req.headers[this.sessionHeader] !== undefined) {
      return true;
    }
    const token = this.tokenOf(req);
    if (token === undefined) return this.reject(context, 'missing');
    if (!checkCsrfToken(req, token)) return this.reject(context, 'invalid');
    return true;
  }

  /**
   * The token the request carries: the header, else the body field (`undefined` when neither is
   * there; any other value is checked, and refused unless it is a valid token).
   */
  protected tokenOf(req: TokenRequest): unknown {
    const fromHeader = req.headers[this.csrf.header];
    if (fromHeader !== undefined) return fromHeader;
    const body = req.body;
    if (typeof body !== 'object' || body === null) return undefined;
    return Object.prototype.hasOwnProperty.call(body, this.csrf.field)
      ? (body as Record<string, unknown>)[this.csrf.field]
      : undefined;
  }

  /**
   * Refuses the request with the context's error, with the same message: on HTTP
   * {@link CsrfTokenException} (403); in a GraphQL resolver a `GraphQLError` with
   * `extensions.code: 'FORBIDDEN'` (on every driver: Mercurius, unlike Apollo, gives a 403
   * exception no code). Override to throw another error.
   */
  protected reject(context: ExecutionContext, reason: CsrfFailure): never {
    const message = MESSAGES[reason](this.csrf);
    const resolver = contextSessionResolver(context);
    if (resolver.forbid) return resolver.forbid(context, message);
    throw new CsrfTokenException(reason, message);
  }
}
