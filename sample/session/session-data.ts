/**
 * What this app keeps in a session, declared once for the whole app: `@Session('key')`,
 * `SessionValue<'key'>` and `RequestSession` are typed from it.
 */

/** One line of the shopping cart. */
export interface CartLine {
  productId: string;
  quantity: number;
}

declare module '../../lib' {
  interface SessionData {
    /** Page views counted by `GET /counter`. */
    visits: number;
    /** The shopping cart (kept for anonymous visitors too). */
    shoppingCart: CartLine[];
    /** Written by passport: the serialized user (the username) once signed in. */
    passport: { user?: string };
  }

  /** The app's flash message types (beside `error`, `success` and `info`), and their messages. */
  interface FlashMessages {
    /** "Sign out everywhere else": how many other sessions were ended. */
    revoked: number;
  }
}

/** The session cookie's name (also used to clear it on sign-out). */
export const SESSION_COOKIE_NAME = 'sample.sid';
