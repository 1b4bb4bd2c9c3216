import type { Cookie, CookieData } from './cookie';

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

/** The session key flash messages are kept under (connect-flash's: sessions it wrote read as they are). */
export const FLASH_KEY = 'flash';

/**
 * The session key the CSRF secret is kept under (csurf's name: a session it wrote keeps its
 * secret). Reserved: store nothing else there. `regenerate()` never carries it over, even when
 * named in `keep`. See `lib/engine/csrf-token.ts`.
 */
export const CSRF_SECRET_KEY = 'csrfSecret';
