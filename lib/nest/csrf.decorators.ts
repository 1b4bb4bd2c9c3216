import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { issueCsrfToken } from '../engine/csrf-token';
import type { SessionRequest } from '../engine/session';
import { contextSessionResolver } from './context-session';

/**
 * A new CSRF token for the request's session (for a form's hidden field, or a page that hands it
 * to its scripts): for exception filters, interceptors and templates, where `@CsrfToken()` cannot
 * reach. Creates the session's secret on first use, and so the session itself when there was
 * none (with `saveUninitialized: false`): call it only when rendering something that posts back.
 * Takes the Node request or Fastify's request. Throws when the request has no session at all.
 */
export function csrfTokenOf(req: IncomingMessage | { readonly raw: IncomingMessage }): string {
  const target = 'raw' in req && typeof req.raw === 'object' ? req.raw : req;
  return issueCsrfToken(target as SessionRequest);
}

const csrfTokenParam = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const req = contextSessionResolver(ctx).request(ctx);
  if (!req) {
    throw new Error(`nest-session: @CsrfToken() found no request in this '${ctx.getType()}' call`);
  }
  return issueCsrfToken(req);
});

/**
 * Injects a new CSRF token (a string) for the request's session: put it in the form's `_csrf`
 * field (or the field the `csrf.field` option names), or have scripts send it in the
 * `x-csrf-token` header. Each call gives different bytes (masked with a fresh salt); all of them
 * verify until the session is regenerated or destroyed.
 *
 * ```ts
 * @Get('cart') page(@CsrfToken() csrf: string) { return render('cart', { csrf }); }
 * ```
 *
 * Asking for a token creates the session's secret (and the session, on a first visit).
 */
export function CsrfToken(): ParameterDecorator {
  return csrfTokenParam();
}

/** Route metadata of {@link SkipCsrf}. @internal */
export const SKIP_CSRF = Reflector.createDecorator<boolean>({ transform: () => true });

/**
 * Exempts a handler, or every handler of a controller, from {@link CsrfGuard} (a webhook signed
 * by its sender, a public endpoint that changes nothing of a user's).
 */
export function SkipCsrf(): MethodDecorator & ClassDecorator {
  return SKIP_CSRF(true);
}
