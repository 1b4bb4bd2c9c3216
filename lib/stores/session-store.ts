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
  /** Lists the ids of the sessions currently stored (optional; the listings below build on it). */
  ids?(): Promise<string[]>;

  /**
   * express-session's `all`: every stored session. This default reads each id from
   * {@link ids} and answers them keyed by id (express-session's shape); stores may answer an
   * array instead (connect-redis's shape, as {@link RedisStore} does).
   */
  async all(): Promise<Record<string, SessionRecord> | SessionRecord[]> {
    const out = Object.create(null) as Record<string, SessionRecord>;
    for (const sid of await this.listable('all')) {
      const session = await this.get(sid);
      if (session) out[sid] = session;
    }
    return out;
  }

  /** express-session's `length`: how many sessions are stored (default: from {@link ids}). */
  async length(): Promise<number> {
    return (await this.listable('length')).length;
  }

  /** express-session's `clear`: removes every session of this store (default: from {@link ids}). */
  async clear(): Promise<void> {
    for (const sid of await this.listable('clear')) await this.destroy(sid);
  }

  /** The stored ids, for the default listings; a store that cannot list says so clearly. */
  private async listable(method: string): Promise<string[]> {
    if (typeof this.ids !== 'function') {
      throw new Error(
        `${this.constructor.name} cannot ${method}(): it implements neither ${method}() nor ids()`,
      );
    }
    return this.ids();
  }
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
