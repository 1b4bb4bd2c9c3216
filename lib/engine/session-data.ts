import type { IncomingMessage } from 'node:http';
import type { Cookie, CookieData } from './cookie';
import type { Session } from './session';
import type { StoreLike } from '../stores/store-like';

/**
 * The data kept in a session. Augment it to type your own keys:
 *
 * ```ts
 * declare module 'nest-session' {
 *   interface SessionData { userId: string; cart: string[] }
 * }
 * ```
 */
export interface SessionData {
  /** The session cookie's settings and expiry. */
  cookie: Cookie;
}

/** A session as stores receive and return it: plain JSON-safe data plus the cookie's persisted fields. */
export interface SessionRecord {
  /** Persisted cookie fields (`expires` is an ISO string once it has been through JSON). */
  cookie: CookieData;
  [key: string]: unknown;
}

/** `req.session`: the {@link Session} methods plus the (augmentable) {@link SessionData}. */
export type RequestSession = Session & Partial<SessionData>;

/** The request properties the session engine reads and sets (typed on `node:http`, no Express import). */
export interface SessionRequest extends IncomingMessage {
  /** The session, once the middleware has run (absent on skipped paths). */
  session?: RequestSession | null;
  /** The session id (what the cookie carries). */
  sessionID?: string;
  /** The store the middleware used for this request. */
  sessionStore?: StoreLike;
  /** Set by cookie-parser; used as the secret when the `secret` option is missing. */
  secret?: string;
  /** Set by cookie-parser. */
  cookies?: Record<string, unknown>;
  /** Set by cookie-parser when it has a secret. */
  signedCookies?: Record<string, unknown>;
  /** Set by Express: the URL before mounting rewrote `req.url`. */
  originalUrl?: string;
  /** Set by Express from its `trust proxy` setting. */
  secure?: boolean;
}
