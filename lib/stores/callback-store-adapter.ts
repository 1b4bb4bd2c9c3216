import type { NodeCallback } from '../engine/node-callback';
import { promiseOrCallback } from '../engine/node-callback';
import type { SessionRecord } from '../engine/session-data';
import { callStore, type StoreMethod } from '../engine/store/store-call';
import type { StoreLike } from '../engine/store/store-like';
import { SessionStore } from './session-store';

/**
 * Presents any express-session compatible store (callback style, such as connect-pg-simple or
 * connect-mongo) as a promise-style {@link SessionStore}, so it can be injected and awaited.
 * Methods the wrapped store lacks reject with a clear error.
 */
export class CallbackStoreAdapter extends SessionStore {
  /** @param store the wrapped store */
  constructor(readonly store: StoreLike) {
    super();
    // The per-user index, when the wrapped store keeps one (e.g. the encryption wrapper's).
    const indexed = store as Pick<SessionStore, 'addUserSession' | 'userSessionIds'>;
    if (typeof indexed.addUserSession === 'function') {
      this.addUserSession = (userId, sid, session) =>
        Promise.resolve(indexed.addUserSession?.(userId, sid, session));
    }
    if (typeof indexed.userSessionIds === 'function') {
      this.userSessionIds = (userId) =>
        Promise.resolve(indexed.userSessionIds?.(userId) as Promise<string[]>);
    }
  }

  private call<T>(method: StoreMethod, args: unknown[], cb?: NodeCallback<T>) {
    return promiseOrCallback<T>(cb, (done) =>
      callStore<T>(this.store, method, args, undefined, done),
    );
  }

  /** Reads a session. */
  override get(sid: string): Promise<SessionRecord | null | undefined> {
    return this.call<SessionRecord | null | undefined>('get', [sid]) as Promise<
      SessionRecord | null | undefined
    >;
  }

  /** Writes a session. */
  override set(sid: string, session: SessionRecord): Promise<void> {
    return this.call<void>('set', [sid, session]) as Promise<void>;
  }

  /** Removes a session. */
  override destroy(sid: string): Promise<void> {
    return this.call<void>('destroy', [sid]) as Promise<void>;
  }

  /** Refreshes a session's expiry (a no-op when the wrapped store has no touch). */
  override touch(sid: string, session: SessionRecord): Promise<void> {
    if (typeof this.store.touch !== 'function') return Promise.resolve();
    return this.call<void>('touch', [sid, session]) as Promise<void>;
  }

  /** Ids of the stored sessions (from the wrapped store's `ids()` or `all()`). */
  override async ids(): Promise<string[]> {
    if (typeof (this.store as { ids?: unknown }).ids === 'function') {
      return (await this.call<string[]>('ids', [])) as string[];
    }
    const all = (await this.call<unknown>('all', [])) as unknown;
    if (Array.isArray(all)) return all.map((s: { id?: string }) => String(s.id));
    return Object.keys((all ?? {}) as object);
  }

  /** Every stored session, as the wrapped store's `all()` answers (else read id by id). */
  override async all(): Promise<Record<string, SessionRecord> | SessionRecord[]> {
    if (typeof this.store.all !== 'function') return super.all();
    return ((await this.call<unknown>('all', [])) ?? {}) as
      Record<string, SessionRecord> | SessionRecord[];
  }

  /** Number of stored sessions. */
  override async length(): Promise<number> {
    return (await this.call<number>('length', [])) as number;
  }

  /** Removes every session. */
  override async clear(): Promise<void> {
    await this.call<void>('clear', []);
  }
}
