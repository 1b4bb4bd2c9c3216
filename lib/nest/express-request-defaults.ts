import type { HttpServer } from '@nestjs/common';
import { flash } from '../engine/flash';
import type { StoreLike } from '../engine/store/store-like';

function predefine(target: object, key: string, value: unknown): void {
  if (Object.prototype.hasOwnProperty.call(target, key)) return;
  Object.defineProperty(target, key, { value, writable: true, configurable: true });
}

/**
 * Puts `req.flash` and `req.sessionStore` on the object every request of the Express
 * application inherits from (`app.request`), once, instead of on each request.
 *
 * Why: on Express every request and response ends up with a hidden class (V8 map) of its own
 * (measured on the bench server: no two consecutive requests share one), so every property a
 * middleware adds to a request allocates a new map and a copy of its descriptors (about 1 KB,
 * plus the copy's CPU and the GC that follows). Inherited, the two cost nothing per request;
 * the engine assigns them only when the request's values differ (another store: a second
 * session middleware, connect-flash's own `flash`). Only for the module's direct install on
 * every route: with `forRoutes`/`exclude` the routes without sessions keep neither property.
 * @internal
 */
export function predefineOnExpressRequests(adapter: HttpServer, store: StoreLike): void {
  let app: { request?: unknown } | undefined;
  try {
    app = adapter.getInstance() as { request?: unknown } | undefined;
  } catch {
    return;
  }
  const proto = app?.request;
  if (typeof proto !== 'object' || proto === null) return;
  predefine(proto, 'flash', flash);
  predefine(proto, 'sessionStore', store);
}
