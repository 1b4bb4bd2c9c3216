/**
 * MemoryStore's `'expired'` events: one per session that expires, from the sweep (`prune`) or
 * from a read, on the next tick, with the user the per-user index knew; none for a destroyed or
 * cleared session.
 */
import { MemoryStore, type SessionRecord, type StoreExpiredEvent } from '../../../lib';

const record = (expiresInMs: number): SessionRecord =>
  ({
    cookie: {
      originalMaxAge: expiresInMs,
      expires: new Date(Date.now() + expiresInMs).toISOString(),
    },
  }) as unknown as SessionRecord;

const tick = () => new Promise((resolve) => process.nextTick(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("MemoryStore 'expired' events", () => {
  let store: MemoryStore;
  let events: StoreExpiredEvent[];
  beforeEach(() => {
    store = new MemoryStore({ pruneInterval: 0 });
    events = [];
    store.on('expired', (e: StoreExpiredEvent) => events.push(e));
  });
  afterEach(() => store.close());

  it('the sweep reports each expired session once, with its user when indexed', async () => {
    await store.set('a', record(20));
    await store.set('b', record(20));
    await store.set('c', record(60_000));
    await store.addUserSession('alice', 'a');
    await sleep(40);
    expect(store.prune()).toBe(2);
    expect(events).toEqual([]); // never from inside the method
    await tick();
    expect(events).toEqual([{ sessionId: 'a', userId: 'alice' }, { sessionId: 'b' }]);
    expect(store.prune()).toBe(0);
    await tick();
    expect(events).toHaveLength(2);
  });

  it('a read that finds a session expired reports it', async () => {
    await store.set('a', record(20));
    await store.addUserSession('bob', 'a');
    await sleep(40);
    expect(await store.get('a')).toBeUndefined();
    await tick();
    expect(events).toEqual([{ sessionId: 'a', userId: 'bob' }]);
    expect(await store.userSessionIds('bob')).toEqual([]);
  });

  it('destroyed and cleared sessions are not reported; their user is forgotten', async () => {
    await store.set('a', record(20));
    await store.set('b', record(20));
    await store.addUserSession('carol', 'a');
    await store.destroy('a');
    await store.clear();
    await store.set('a', record(20)); // the same id again, no longer indexed
    await sleep(40);
    store.prune();
    await tick();
    expect(events).toEqual([{ sessionId: 'a' }]);
  });
});
