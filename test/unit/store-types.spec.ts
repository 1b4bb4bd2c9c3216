/**
 * Stores written for express-session's types are accepted as a `store` unchanged (a type error
 * fails this file: ts-jest compiles it), and `SessionStore`, the injected token, offers
 * express-session's optional methods by their names (`all`, `length`, `clear`, `touch`), with
 * working defaults for stores that only list their ids.
 */
import type { RedisStore as ConnectRedisStore } from 'connect-redis';
import type { Store as ExpressSessionStore, SessionData as EsSessionData } from 'express-session';
import session = require('../../lib/express');
import {
  MemoryStore,
  type SessionModuleOptions,
  SessionStore,
  type SessionRecord,
} from '../../lib';
import { newSession } from '../support/store-contract';

/** A store typed exactly as @types/express-session types one. */
class TypedLikeExpressSession {
  readonly data = new Map<string, EsSessionData>();
  get(sid: string, callback: (err: unknown, session?: EsSessionData | null) => void): void {
    callback(null, this.data.get(sid) ?? null);
  }
  set(sid: string, session: EsSessionData, callback?: (err?: unknown) => void): void {
    this.data.set(sid, session);
    callback?.();
  }
  destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.data.delete(sid);
    callback?.();
  }
  touch(sid: string, session: EsSessionData, callback?: () => void): void {
    this.data.set(sid, session);
    callback?.();
  }
  on(): this {
    return this;
  }
}

/** Only the required methods and ids(): the listings come from the base. */
class IdsOnlyStore extends SessionStore {
  readonly map = new Map<string, SessionRecord>();
  async get(sid: string) {
    return this.map.get(sid);
  }
  async set(sid: string, s: SessionRecord) {
    this.map.set(sid, s);
  }
  async destroy(sid: string) {
    this.map.delete(sid);
  }
  override async ids() {
    return [...this.map.keys()];
  }
}

class NoListingStore extends SessionStore {
  async get() {
    return undefined;
  }
  async set() {}
  async destroy() {}
}

const SECRET = 'x'.repeat(32);

describe('store types', () => {
  it('stores typed with @types/express-session and connect-redis are valid store options', () => {
    const typed: SessionModuleOptions = { secret: SECRET, store: new TypedLikeExpressSession() };
    const anyEsStore = (store: ExpressSessionStore): SessionModuleOptions => ({
      secret: SECRET,
      store,
    });
    const connectRedis = (store: ConnectRedisStore): SessionModuleOptions => ({
      secret: SECRET,
      store,
    });
    // The drop-in takes them too.
    const dropIn = (store: ExpressSessionStore) => session({ secret: SECRET, store });
    expect(typed.store).toBeInstanceOf(TypedLikeExpressSession);
    expect([anyEsStore, connectRedis, dropIn].every((f) => typeof f === 'function')).toBe(true);
  });

  it('the injected SessionStore has all, length, clear and touch by their names', async () => {
    const store: SessionStore = new MemoryStore();
    await store.set('a', newSession({ n: 1 }));
    expect(await store.length()).toBe(1);
    expect(Object.keys(await store.all())).toEqual(['a']);
    await store.touch?.('a', newSession({ n: 1 }));
    await store.clear();
    expect(await store.length()).toBe(0);
  });

  it('defaults for a store that lists ids: all (keyed by id), length, clear', async () => {
    const store = new IdsOnlyStore();
    await store.set('a', newSession({ n: 1 }));
    await store.set('b', newSession({ n: 2 }));
    expect(await store.length()).toBe(2);
    const all = (await store.all()) as Record<string, SessionRecord>;
    expect(Object.keys(all).sort()).toEqual(['a', 'b']);
    expect(all.b?.n).toBe(2);
    await store.clear();
    expect(store.map.size).toBe(0);
  });

  it('a store that cannot list says so by name', async () => {
    await expect(new NoListingStore().length()).rejects.toThrow(
      'NoListingStore cannot length(): it implements neither length() nor ids()',
    );
  });
});
