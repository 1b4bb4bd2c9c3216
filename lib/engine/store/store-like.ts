import type { CookieData } from '../cookie';
import type { SessionPatch } from '../session-patch';

/**
 * The session a store is handed to write: the request's session (its data, and its cookie with
 * the persisted fields). Typed loosely so that stores typed for express-session (a `SessionData`
 * with express-session's `Cookie`) fit unchanged.
 */
export interface StoredSessionInput {
  cookie: Partial<CookieData>;
}

/** Any callback: stores may call it with `(err)` or `(err, result)`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCallback = (...args: any[]) => void; // why: third-party stores type callbacks every way

/**
 * How `getAndTouch` refreshes a session it reads, as the touch at the end of the request would:
 * only a record that exists (no resurrection), whose own lifetime is `maxAge` (a record with
 * another lifetime, such as a "remember me" session, is left for the request's own touch: never
 * shortened), whose own expiry has not passed (the engine discards it), and whose expiry is more
 * than `margin` ms short of `now + maxAge`. The new expiry is `now + maxAge` (for `maxAge: null`,
 * a browser-session cookie, only the store's own lifetime of the record moves).
 */
export interface ReadRefresh {
  /** The configured cookie lifetime (ms), or `null` for a browser-session cookie. */
  readonly maxAge: number | null;
  /** The least the refresh must move the expiry by (ms): fewer rewrites. */
  readonly margin: number;
  /**
   * Set by the store to `true` when the record it answers was refreshed (or was already within
   * `margin` of the new expiry): the request's own touch is then done. Left unset for a record
   * the rules above left alone.
   */
  refreshed?: boolean;
}

/** A listener added by {@link StoreLike.onRevoked}. */
export interface RevocationSubscription {
  /** Settles once destroys are being reported (a Redis subscription confirmed). */
  readonly ready: Promise<void>;
  /** Stops calling the listener. */
  close(): void;
}

/**
 * What the engine needs from a store, by duck typing: express-session's store contract.
 * Callback-style stores (connect-mongo, connect-pg-simple, connect-redis, your own) and
 * promise-style stores (methods returning promises, such as {@link SessionStore} subclasses)
 * both fit. The engine never checks `instanceof`.
 */
export interface StoreLike {
  /** Reads a session; `null`/`undefined` (or an error with `code: 'ENOENT'`) means not found. */
  get(sid: string, callback: AnyCallback): unknown;
  /**
   * Writes a whole session. A store that refuses to rewrite a session read from it which no
   * longer exists (destroyed meanwhile) may answer `false` (`callback(null, false)`, or resolve
   * `false`); the engine then sends no live id back with the response (strict mode). The same
   * answer from `touch` and `patch` means the same.
   */
  set(sid: string, session: StoredSessionInput, callback: AnyCallback): unknown;
  /** Removes a session. */
  destroy(sid: string, callback: AnyCallback): unknown;
  /** Refreshes a session's expiry without rewriting its data (optional). */
  touch?(sid: string, session: StoredSessionInput, callback: AnyCallback): unknown;
  /**
   * Reads a session and refreshes its expiry in the same operation (optional; a store with a
   * network round trip per command offers it so that a read costs one command, not a read and a
   * touch). See {@link ReadRefresh}. Answers like `get`, with the record as it is after the
   * refresh.
   */
  getAndTouch?(sid: string, refresh: ReadRefresh, callback: AnyCallback): unknown;
  /**
   * Applies a {@link SessionPatch} atomically (optional; used with `concurrency: 'merge'` for
   * sessions read from the store). A record that no longer exists stays gone.
   */
  patch?(
    sid: string,
    patch: SessionPatch,
    session: StoredSessionInput,
    callback: AnyCallback,
  ): unknown;
  /** Lists sessions (optional; never called by the engine). */
  all?(callback: AnyCallback): unknown;
  /** Counts sessions (optional). */
  length?(callback: AnyCallback): unknown;
  /** Removes every session (optional). */
  clear?(callback: AnyCallback): unknown;
  /**
   * Optional: calls `listener(sid)` each time a session of this store is destroyed (logout,
   * `destroyForUser`, a regenerate's old id), so that live connections holding it (WebSockets)
   * can be closed. A store shared by several processes reports the destroys of all of them
   * (RedisStore: Redis pub/sub); MemoryStore reports its own.
   */
  onRevoked?(listener: (sid: string) => void): RevocationSubscription;
  /** Event subscription: the engine listens for `'connect'` and `'disconnect'`. */
  on(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
  /** Set by the middleware so that `Store#regenerate` can create the new session. */
  generate?: (req: never) => void;
  /** Optional express-session hooks, used when present. */
  regenerate?(req: never, callback: AnyCallback): unknown;
}

/**
 * On the prototype of our `Store` base: marks the stores built on it (their `createSession`
 * builds our sessions) and names the base's own `regenerate`. The session model recognises them
 * through it without importing the base (which is built on the model).
 * @internal
 */
export const STORE_BASE = Symbol('nest-session.storeBase');

/** What {@link STORE_BASE} holds. @internal */
export interface StoreBaseMark {
  /** `Store.prototype.regenerate`. */
  readonly regenerate: unknown;
}
