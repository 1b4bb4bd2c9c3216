import type { HttpServer } from '@nestjs/common';
import { flash } from '../engine/flash';
import { inheritSessionAccessors } from '../engine/lifecycle/lazy-session';
import type { StoreLike } from '../engine/store/store-like';
import { shareResponseHooks } from '../engine/transport/node/response-hooks';

function predefine(target: object, key: string, value: unknown): void {
  if (Object.prototype.hasOwnProperty.call(target, key)) return;
  Object.defineProperty(target, key, { value, writable: true, configurable: true });
}

/**
 * Puts what the session adds to each request and response on the objects every request and
 * response of the Express application inherit from (`app.request`, `app.response`), once,
 * instead of on each: `req.flash`, `req.sessionStore`, the `req.session` and `req.sessionID`
 * accessors (their values kept in the request's context), and the `writeHead`/`end` hooks that
 * commit the session (each response's commit found by the response).
 *
 * Why: on Express every request and response ends up with a hidden class (V8 map) of its own
 * (measured on the bench server: no two consecutive requests share one; Express sets each
 * one's prototype), so every property a middleware adds to one allocates a new map and a copy
 * of its descriptors (about 1 KB, plus the copy's CPU and the GC that follows). Inherited, they
 * cost nothing per request; the engine assigns `flash` and `sessionStore` only when the
 * request's values differ (another store: a second session middleware, connect-flash's own
 * `flash`). Only for the module's direct install on every route: with `forRoutes`/`exclude`
 * the routes without sessions keep none of them.
 *
 * The one visible difference: `req.session` is not an own property of the request, so
 * `delete req.session` leaves it in place; set it to `null` (or `undefined`) to unset it.
 * @internal
 */
export function prepareExpressPrototypes(adapter: HttpServer, store: StoreLike): void {
  let app: { request?: unknown; response?: unknown } | undefined;
  try {
    app = adapter.getInstance() as { request?: unknown; response?: unknown } | undefined;
  } catch {
    return;
  }
  const request = app?.request;
  const response = app?.response;
  if (typeof request !== 'object' || request === null) return;
  if (typeof response !== 'object' || response === null) return;
  predefine(request, 'flash', flash);
  predefine(request, 'sessionStore', store);
  inheritSessionAccessors(request);
  shareResponseHooks(response);
}
