import type { SessionRecord } from '../engine/session-data';
import { Store } from '../engine/store/store';

/**
 * The base for promise-style stores, and the Nest DI token of the store the session module runs
 * on: inject it with `constructor(private readonly store: SessionStore)` to read, list or
 * destroy sessions (for example to sign a user out everywhere).
 *
 * Subclasses implement `get`, `set` and `destroy` returning promises (they may also accept an
 * optional callback, as {@link MemoryStore} and {@link RedisStore} do). It extends the
 * express-session {@link Store} base, so it is an EventEmitter with `createSession`, `load` and
 * `regenerate`, and works with `nest-session/express` too.
 */
export abstract class SessionStore extends Store {
  /** Reads a session by id; resolves `null`/`undefined` when there is none (or it expired). */
  abstract get(sid: string): Promise<SessionRecord | null | undefined>;
  /**
   * Writes the whole session; its expiry comes from `session.cookie.expires`. May resolve
   * `false` when it refused to rewrite a session read from the store that no longer exists (see
   * `StoreLike.set`); `touch` likewise.
   */
  abstract set(sid: string, session: SessionRecord): Promise<void | false>;
  /** Removes a session (resolves also when it did not exist). */
  abstract destroy(sid: string): Promise<void>;
  /** Refreshes a session's expiry without rewriting its data. */
  touch?(sid: string, session: SessionRecord): Promise<void | false>;
  /** Lists the ids of the sessions currently stored. */
  ids?(): Promise<string[]>;
  /** Counts the sessions currently stored. */
  length?(): Promise<number>;
  /** Removes every session of this store. */
  clear?(): Promise<void>;
  /**
   * Records that session `sid` belongs to user `userId` (per-user index, for "sign out
   * everywhere"). The entry lives at least as long as the session's record. Optional.
   */
  addUserSession?(userId: string, sid: string, session: SessionRecord): Promise<void>;
  /** Ids of the live sessions of a user (entries of expired or destroyed sessions pruned). Optional. */
  userSessionIds?(userId: string): Promise<string[]>;
  /** Releases timers or connections the store itself created (never a client you passed in). */
  close?(): Promise<void> | void;
}
