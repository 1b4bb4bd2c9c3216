process.env.NO_DEPRECATION = 'express-session';

import { memAll, memGet, memLength, memSet } from '../../support/express-helpers';
import session = require('../../../lib/express');

function rec(extra: Record<string, unknown> = {}, expires: Date | null = null): any {
  return {
    cookie: {
      originalMaxAge: expires ? expires.getTime() - Date.now() : null,
      expires,
      httpOnly: true,
      path: '/',
    },
    ...extra,
  };
}

describe('MemoryStore (callback API)', () => {
  let store: any;
  beforeEach(() => {
    store = new session.MemoryStore();
  });
  afterEach(() => {
    store.close?.();
  });

  it('is a Store', () => {
    expect(store).toBeInstanceOf(session.Store);
  });

  it('set then get round-trips a plain object', async () => {
    await memSet(store, 'a', rec({ user: 'bob', n: [1, 2] }));
    const got = await memGet(store, 'a');
    expect(got).toEqual({
      cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
      user: 'bob',
      n: [1, 2],
    });
  });

  it('stores a JSON snapshot (later mutations of the input do not leak in)', async () => {
    const input = rec({ v: 1 });
    await memSet(store, 'a', input);
    input.v = 2;
    expect((await memGet(store, 'a')).v).toBe(1);
  });

  it('get returns a fresh, detached object each time', async () => {
    await memSet(store, 'a', rec({ v: 1 }));
    const first = await memGet(store, 'a');
    first.v = 99;
    const second = await memGet(store, 'a');
    expect(second.v).toBe(1);
    expect(second).not.toBe(first);
  });

  it('serializes a Cookie through toJSON, expires stays a string on read', async () => {
    const c = new session.Cookie({ maxAge: 60000 }) as any;
    await memSet(store, 'a', { cookie: c, x: 1 });
    const got = await memGet(store, 'a');
    expect(typeof got.cookie.expires).toBe('string');
    expect(got.cookie.expires).toBe(c.expires.toISOString());
    expect(got.cookie.originalMaxAge).toBe(60000);
  });

  it('get of an unknown ID gives no session and no error', async () => {
    const args = await new Promise<any[]>((resolve) =>
      store.get('nope', (...a: any[]) => resolve(a)),
    );
    expect(args[0] == null).toBe(true);
    expect(args[1] == null).toBe(true);
  });

  it('calls back asynchronously', async () => {
    let sync = true;
    let called = 0;
    await new Promise<void>((resolve) => {
      store.set('a', rec(), () => {
        called++;
        expect(sync).toBe(false);
        resolve();
      });
      sync = false;
    });
    sync = true;
    await new Promise<void>((resolve) => {
      store.get('a', () => {
        called++;
        expect(sync).toBe(false);
        resolve();
      });
      sync = false;
    });
    expect(called).toBe(2);
  });

  it('get reads the entry at call time, not at callback time', async () => {
    await memSet(store, 'a', rec({ v: 1 }));
    const p = memGet(store, 'a');
    store.set('a', rec({ v: 2 }));
    expect((await p).v).toBe(1);
  });

  it('destroy removes the entry; works without a callback', async () => {
    await memSet(store, 'a', rec());
    await memSet(store, 'b', rec());
    await new Promise((resolve) => store.destroy('a', resolve));
    expect(await memGet(store, 'a')).toBeUndefined();
    store.destroy('b');
    expect(await memGet(store, 'b')).toBeUndefined();
    expect(await memLength(store)).toBe(0);
  });

  it('touch rewrites only the cookie', async () => {
    await memSet(store, 'a', rec({ data: 'stored' }));
    const newExp = new Date(Date.now() + 60000);
    await new Promise((resolve) =>
      store.touch(
        'a',
        { cookie: { originalMaxAge: 60000, expires: newExp, path: '/' }, data: 'other' },
        resolve,
      ),
    );
    const got = await memGet(store, 'a');
    expect(got.data).toBe('stored');
    expect(got.cookie).toEqual({
      originalMaxAge: 60000,
      expires: newExp.toISOString(),
      path: '/',
    });
  });

  it('touch rewrites only the cookie of a record whose cookie is not first', async () => {
    await memSet(store, 'a', { data: 'stored', ...rec() });
    const newExp = new Date(Date.now() + 60000);
    await new Promise((resolve) =>
      store.touch('a', { cookie: { originalMaxAge: 60000, expires: newExp, path: '/' } }, resolve),
    );
    expect(store.sessions.a).toBe(
      JSON.stringify({
        data: 'stored',
        cookie: { originalMaxAge: 60000, expires: newExp, path: '/' },
      }),
    );
  });

  it('touch of an unknown ID does not create it', async () => {
    await new Promise((resolve) => store.touch('ghost', rec(), resolve));
    expect(await memGet(store, 'ghost')).toBeUndefined();
    expect(await memLength(store)).toBe(0);
  });

  it('all returns an object keyed by ID', async () => {
    await memSet(store, 'a', rec({ v: 'A' }));
    await memSet(store, 'b', rec({ v: 'B' }));
    const all = await memAll(store);
    expect(Array.isArray(all)).toBe(false);
    expect(Object.keys(all).sort()).toEqual(['a', 'b']);
    expect(all.a.v).toBe('A');
    expect(all.b.v).toBe('B');
  });

  it('length counts the sessions', async () => {
    expect(await memLength(store)).toBe(0);
    await memSet(store, 'a', rec());
    await memSet(store, 'b', rec());
    await memSet(store, 'a', rec({ again: true }));
    expect(await memLength(store)).toBe(2);
  });

  it('clear empties the store', async () => {
    await memSet(store, 'a', rec());
    await memSet(store, 'b', rec());
    await new Promise((resolve) => store.clear(resolve));
    expect(await memLength(store)).toBe(0);
    expect(await memGet(store, 'a')).toBeUndefined();
  });

  describe('expiry', () => {
    it('an expired session is not returned by get and is removed', async () => {
      await memSet(store, 'old', rec({}, new Date(Date.now() - 1000)));
      await memSet(store, 'fresh', rec({}, new Date(Date.now() + 60000)));
      expect(await memGet(store, 'old')).toBeUndefined();
      expect(await memLength(store)).toBe(1);
    });

    it('expiry is checked at read time', async () => {
      await memSet(store, 'soon', rec({ v: 1 }, new Date(Date.now() + 40)));
      expect((await memGet(store, 'soon')).v).toBe(1);
      await new Promise((r) => setTimeout(r, 60));
      expect(await memGet(store, 'soon')).toBeUndefined();
    });

    it('expired sessions are left out of all and length', async () => {
      await memSet(store, 'old', rec({}, new Date(Date.now() - 1)));
      await memSet(store, 'ok', rec());
      expect(Object.keys(await memAll(store))).toEqual(['ok']);
      expect(await memLength(store)).toBe(1);
    });

    it('touch of an expired session does not revive it', async () => {
      await memSet(store, 'old', rec({}, new Date(Date.now() - 1000)));
      await new Promise((resolve) =>
        store.touch('old', rec({}, new Date(Date.now() + 60000)), resolve),
      );
      expect(await memGet(store, 'old')).toBeUndefined();
    });

    it('a session without expiry does not expire', async () => {
      await memSet(store, 'forever', rec({ v: 1 }));
      expect((await memGet(store, 'forever')).v).toBe(1);
    });

    // Deliberate difference (README): browser-session records get a `ttl` (default one day)
    // instead of living forever; `ttl: Infinity` restores express-session's behaviour.
    it('a session without expiry lives for `ttl` after its last write (default one day)', async () => {
      await memSet(store, 'forever', rec({ v: 1 }));
      const realNow = Date.now();
      const spy = jest.spyOn(Date, 'now').mockReturnValue(realNow + 86_400_000 - 1000);
      try {
        expect((await memGet(store, 'forever')).v).toBe(1);
        spy.mockReturnValue(realNow + 86_400_000 + 1000);
        expect(await memGet(store, 'forever')).toBeUndefined();
        expect(await memLength(store)).toBe(0);
      } finally {
        spy.mockRestore();
      }
    });

    it('keeps an engine-written session as its JSON alone, and still expires it on time', async () => {
      const cookie = new session.Cookie({ maxAge: 50, sameSite: 'lax', priority: 'high' });
      await memSet(store, 'lean', { cookie, v: 1 });
      expect(typeof (store as any).entries.get('lean')).toBe('string');
      expect((await memGet(store, 'lean')).v).toBe(1);
      await new Promise((r) => setTimeout(r, 70));
      expect(store.prune()).toBe(1);
      expect(await memGet(store, 'lean')).toBeUndefined();
    });

    it('never takes an "expires" of the session data for the cookie\'s', async () => {
      const soon = new Date(Date.now() + 40).toISOString();
      const later = new Date(Date.now() + 60_000).toISOString();
      // Data before the cookie, and a browser-session cookie (no expiry: ttl applies).
      await memSet(store, 'data-first', { expires: soon, cookie: rec({}, new Date(later)).cookie });
      await memSet(store, 'no-expiry', { ...rec(), expires: soon });
      await new Promise((r) => setTimeout(r, 60));
      expect((await memGet(store, 'data-first')).expires).toBe(soon);
      expect((await memGet(store, 'no-expiry')).expires).toBe(soon);
    });

    it('with ttl: Infinity a session without expiry is still there much later', async () => {
      const forever = new session.MemoryStore({ ttl: Infinity, pruneInterval: 0 });
      await memSet(forever, 'forever', rec({ v: 1 }));
      const realNow = Date.now();
      const spy = jest.spyOn(Date, 'now').mockReturnValue(realNow + 30 * 86_400_000);
      try {
        expect((await memGet(forever, 'forever')).v).toBe(1);
        expect(await memLength(forever)).toBe(1);
      } finally {
        spy.mockRestore();
        forever.close();
      }
    });
  });
});
