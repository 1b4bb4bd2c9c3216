/**
 * The encryption wrapper around stores of each style: our MemoryStore (promises), express-session's
 * own MemoryStore (callbacks, a third-party store), and the markers that keep the inner store's
 * protections working through it.
 */
import { randomBytes } from 'node:crypto';
import { MemoryStore as ExpressMemoryStore } from 'express-session';
import { Cookie } from '../../../lib/engine/cookie';
import { callStore } from '../../../lib/engine/store/store-call';
import { EncryptedStore } from '../../../lib/engine/store/encrypted-store';
import type { StoreLike } from '../../../lib/engine/store/store-like';
import type { SessionRecord } from '../../../lib/engine/session-data';
import { markLoadedFromStore, isStoredSession } from '../../../lib/engine/session-origin';
import { MemoryStore } from '../../../lib/stores/memory-store';

const KEY = randomBytes(32);
const HOUR = 3_600_000;

function call<T>(store: StoreLike, method: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) =>
    callStore<T>(store, method as never, args, undefined, (err, value) =>
      err ? reject(err) : resolve(value as T),
    ),
  );
}

function record(data: Record<string, unknown>): SessionRecord {
  const cookie = new Cookie({ maxAge: HOUR });
  return { cookie, ...data } as unknown as SessionRecord;
}

/** What the engine does with a record it loaded: a session marked with it. */
function loaded(stored: SessionRecord): SessionRecord {
  const session = { ...stored, cookie: new Cookie({ maxAge: HOUR }) } as SessionRecord;
  markLoadedFromStore(session, stored);
  return session;
}

describe.each([
  ['MemoryStore (promises)', () => new MemoryStore({ pruneInterval: 0 }) as unknown as StoreLike],
  [
    'express-session MemoryStore (callbacks)',
    () => new ExpressMemoryStore() as unknown as StoreLike,
  ],
])('EncryptedStore around %s', (_name, make) => {
  let inner: StoreLike;
  let store: EncryptedStore;
  beforeEach(() => {
    inner = make();
    store = new EncryptedStore(inner, { keys: [KEY] });
  });
  afterEach(() => (inner as { close?: () => void }).close?.());

  it('stores { cookie, $enc } and reads the data back', async () => {
    await call(store, 'set', 'sid-1', record({ user: 'ada', n: 1 }));
    const raw = await call<SessionRecord>(inner, 'get', 'sid-1');
    expect(Object.keys(raw)).toEqual(['cookie', '$enc']);
    expect(JSON.stringify(raw)).not.toContain('ada');
    const back = await call<SessionRecord>(store, 'get', 'sid-1');
    expect(back).toMatchObject({ user: 'ada', n: 1 });
    expect(back).not.toHaveProperty('$enc');
    expect(await call(store, 'get', 'missing')).toBeUndefined();
  });

  it('a touch reuses the ciphertext with the new cookie', async () => {
    await call(store, 'set', 'sid-2', record({ n: 1 }));
    const before = await call<SessionRecord>(inner, 'get', 'sid-2');
    const session = loaded(await call<SessionRecord>(store, 'get', 'sid-2'));
    session.cookie.expires = new Date(Date.now() + 2 * HOUR);
    await call(store, 'touch', 'sid-2', session);
    const after = await call<SessionRecord & { $enc: string }>(inner, 'get', 'sid-2');
    expect(after.$enc).toBe((before as { $enc?: string }).$enc);
    expect(Date.parse(after.cookie.expires as unknown as string)).toBeGreaterThan(
      Date.now() + HOUR + 60_000,
    );
  });

  it('hands the inner store a record marked as read from it (so it can refuse to resurrect)', async () => {
    await call(store, 'set', 'sid-3', record({ n: 1 }));
    const session = loaded(await call<SessionRecord>(store, 'get', 'sid-3'));
    const seen: SessionRecord[] = [];
    const original = inner.set.bind(inner);
    inner.set = ((sid: string, s: SessionRecord, cb: () => void) => {
      seen.push(s);
      return original(sid, s, cb);
    }) as never;
    await call(store, 'set', 'sid-3', session);
    expect(isStoredSession(seen[0])).toBe(true);
    await call(store, 'set', 'sid-4', record({ n: 1 })); // a new session: unmarked
    expect(isStoredSession(seen[1])).toBe(false);
  });

  it('lists decrypted sessions', async () => {
    await call(store, 'set', 'sid-5', record({ n: 5 }));
    const all = await call<Record<string, SessionRecord>>(store, 'all');
    expect(all['sid-5']).toMatchObject({ n: 5 });
    expect(await call(store, 'length')).toBe(1);
  });
});

describe('EncryptedStore around our MemoryStore', () => {
  it('a save after a concurrent destroy answers false and writes nothing (no resurrection)', async () => {
    const inner = new MemoryStore({ pruneInterval: 0 });
    const store = new EncryptedStore(inner, { keys: [KEY] });
    await call(store, 'set', 'sid', record({ n: 1 }));
    const session = loaded(await call<SessionRecord>(store, 'get', 'sid'));
    await call(store, 'destroy', 'sid');
    (session as Record<string, unknown>).n = 2;
    expect(await call(store, 'set', 'sid', session)).toBe(false);
    expect(await call(store, 'touch', 'sid', session)).toBe(false);
    expect(await inner.get('sid')).toBeUndefined();
    inner.close();
  });

  it('offers only the optional methods the inner store has', () => {
    const bare = {
      get: () => undefined,
      set: () => undefined,
      destroy: () => undefined,
      on: () => undefined,
    } as unknown as StoreLike;
    const store = new EncryptedStore(bare, { keys: [KEY] });
    expect(store.touch).toBeUndefined();
    expect(store.getAndTouch).toBeUndefined();
    expect(store.userSessionIds).toBeUndefined();
    expect(typeof new EncryptedStore(new MemoryStore(), { keys: [KEY] }).touch).toBe('function');
  });
});
