import type { Type } from '@nestjs/common';
import type { RouteInfo } from '@nestjs/common/interfaces/middleware/middleware-configuration.interface';
import type { SessionOptions } from '../engine/session-options';
import type { SecretKey } from '../engine/signature';
import type { StoreLike } from '../engine/store/store-like';
import type { CsrfOptions } from './csrf-options';

/**
 * Options of `SessionModule.forRoot()` / `forRootAsync()`: every engine option plus route
 * selection. Defaults are safer than express-session's (see the README): `resave: false`,
 * `saveUninitialized: false`, `cookie.httpOnly: true`, `cookie.sameSite: 'lax'`, store writes
 * finished before the response, a 5 s store timeout.
 */
export interface SessionModuleOptions extends Omit<
  SessionOptions,
  'secret' | 'store' | 'key' | 'strictWrites' | 'discardInvalidRecords'
> {
  /**
   * Required. Signs the session cookie: at least 32 characters (or bytes). With an array the
   * first signs and all verify (rotation: put the new secret first).
   */
  secret: SecretKey | SecretKey[];
  /** The store: a {@link SessionStore}, or an express-session compatible store. Default: a {@link MemoryStore}. */
  store?: StoreLike;
  /** Routes the session middleware runs on. Default: every route, `/` included. */
  forRoutes?: (string | Type<unknown> | RouteInfo)[];
  /** Routes the session middleware skips (for example health checks and static assets). */
  exclude?: (string | RouteInfo)[];
  /**
   * When the store fails while loading a session: `'fail'` (default) answers 503 with
   * `Retry-After`; `'continue'` serves the request without a session (and writes nothing).
   */
  onStoreError?: 'fail' | 'continue';
  /**
   * Keep express-session's behaviour of writing the store while the response is already being
   * sent (`false`). Default `true`: the write finishes before the headers go out, and a failed
   * write answers 503 instead of a success the store never saw.
   */
  strictWrites?: boolean;
  /**
   * Where `CsrfGuard` looks for the session's CSRF token (`field`, `header`) and the methods it
   * does not check (`ignoreMethods`). Defaults: `_csrf`, `x-csrf-token`, GET/HEAD/OPTIONS.
   */
  csrf?: CsrfOptions;
}
