/**
 * The store contract: what the session engine (and users of the store API) rely on, as one jest
 * suite to run against every store: `describeStoreContract(name, makeSubject)`.
 *
 * Stores are called through their callback API (express-session's contract, which every store
 * speaks) and, when `promiseStyle` is set, also without a callback (promise API).
 */
import { Cookie } from '../../lib/engine/cookie';
import type { SessionRecord } from '../../lib/engine/session-data';
import {
  type RequestSession,
  type SessionRequest,
  createSessionFromRecord,
} from '../../lib/engine/session';
import type { StoreLike } from '../../lib/engine/store/store-like';

/** A store under test, with what the contract needs to know about it. */
export interface ContractSubject {
  /** The store (with `ids`, `length`, `clear` and `all`). */
  store: StoreLike;
  /**
   * A second store on the same backend whose browser-session TTL (cookies without expiry) is
   * one second, to observe that such records expire.
   */
  shortTtlStore: StoreLike;
  /** Browser-session TTL of `store`, in seconds. */
  browserSessionTtl: number;
  /** The methods also return promises when called without a callback. */
  promiseStyle: boolean;
  /**
   * Whether a save of a session read from the store is refused once the record was destroyed
   * (no resurrection). A store without it is described as resurrecting (asserted, not skipped).
   */
  preventsResurrection: boolean;
  /** Remaining lifetime of a stored record in seconds (null: none; undefined: missing), when observable. */
  inspectTtl?: (sid: string) => Promise<number | null | undefined>;
  /** Releases everything the subject started. */
  teardown(): Promise<void>;
}

type Method = 'get' | 'set' | 'destroy' | 'touch' | 'ids' | 'length' | 'clear' | 'all';

/** Calls a store method with a callback; checks the callback runs once and asynchronously. */
export function viaCallback<T = unknown>(
  store: StoreLike,
  method: Method,
  ...args: unknown[]
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let sync = true;
    let calls = 0;
    const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    if (typeof fn !== 'function') throw new Error(`store has no ${method}()`);
    fn.call(store, ...args, (err: unknown, result: T) => {
      calls++;
      if (sync) return reject(new Error(`${method} called back synchronously`));
      if (calls > 1) return reject(new Error(`${method} called back twice`));
      if (err) reject(err);
      else resolve(result);
    });
    sync = false;
  });
}

/** Calls a store method without a callback and expects a promise back. */
export function viaPromise<T = unknown>(
  store: StoreLike,
  method: Method,
  ...args: unknown[]
): Promise<T> {
  const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
  if (typeof fn !== 'function') throw new Error(`store has no ${method}()`);
  const returned = fn.call(store, ...args);
  if (!returned || typeof (returned as Promise<T>).then !== 'function') {
    throw new Error(`${method}() without callback did not return a promise`);
  }
  return returned as Promise<T>;
}

let counter = 0;
/** A fresh session id. */
export function newSid(): string {
  counter++;
  return `contract-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A new session record as the engine hands it to `set`: data plus a live {@link Cookie}. */
export function newSession(data: Record<string, unknown> = {}, maxAge: number | null = 60_000) {
  const cookie = new Cookie(maxAge === null ? {} : { maxAge });
  return { cookie, ...data } as unknown as SessionRecord;
}

/** Turns a record read from the store into a session marked as loaded (what the engine does). */
export function loadedSession(sid: string, record: SessionRecord): SessionRecord {
  const req = { sessionID: sid } as unknown as SessionRequest;
  return createSessionFromRecord(req, record) as unknown as SessionRecord;
}

/** `req.session` of an Express request (the drop-in does not augment Express's types). */
export function sessionOf(req: object): RequestSession & Record<string, unknown> {
  return (req as { session: RequestSession & Record<string, unknown> }).session;
}

/** Sessions from `all()` keyed by id, whether the store answers an array (with ids) or an object. */
export function byId(all: unknown): Record<string, SessionRecord> {
  const out: Record<string, SessionRecord> = {};
  if (Array.isArray(all)) {
    for (const s of all as (SessionRecord & { id: string })[]) out[s.id] = s;
  } else if (all && typeof all === 'object') {
    Object.assign(out, all);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shared store contract suite. */
export function describeStoreContract(
  name: string,
  makeSubject: () => Promise<ContractSubject>,
): void {
  describe(`store contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: StoreLike;
    const get = (sid: string) => viaCallback<SessionRecord | null | undefined>(store, 'get', sid);
    const set = (sid: string, s: SessionRecord) => viaCallback(store, 'set', sid, s);
    const destroy = (sid: string) => viaCallback(store, 'destroy', sid);
    const touch = (sid: string, s: SessionRecord) => viaCallback(store, 'touch', sid, s);

    beforeAll(async () => {
      subject = await makeSubject();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.teardown();
    });

    it('get of an unknown id answers nothing', async () => {
      expect(await get(newSid())).toBeFalsy();
    });

    it('set then get returns the data and the cookie in the express-session JSON shape', async () => {
      const sid = newSid();
      const session = newSession({ user: 'ada', cart: [1, 2], nested: { a: true } });
      await set(sid, session);
      const record = await get(sid);
      expect(record).toEqual(JSON.parse(JSON.stringify(session)));
      expect(typeof record?.cookie.expires).toBe('string');
      expect(record?.cookie.originalMaxAge).toBe(60_000);
      expect(record?.cookie).toMatchObject({ httpOnly: true, path: '/' });
    });

    it('get hands out a fresh object each time', async () => {
      const sid = newSid();
      await set(sid, newSession({ n: 1 }));
      const first = (await get(sid)) as SessionRecord;
      first.n = 2;
      expect((await get(sid))?.n).toBe(1);
    });

    it('set overwrites the whole record', async () => {
      const sid = newSid();
      await set(sid, newSession({ a: 1, b: 2 }));
      await set(sid, newSession({ a: 3 }));
      const record = await get(sid);
      expect(record?.a).toBe(3);
      expect(record).not.toHaveProperty('b');
    });

    it('destroy removes the record, and succeeds for an unknown id', async () => {
      const sid = newSid();
      await set(sid, newSession());
      await destroy(sid);
      expect(await get(sid)).toBeFalsy();
      await expect(destroy(newSid())).resolves.toBeUndefined();
    });

    it('touch keeps the stored data and does not create a missing record', async () => {
      const sid = newSid();
      await set(sid, newSession({ n: 1 }));
      await touch(sid, newSession({ n: 999 }));
      expect((await get(sid))?.n).toBe(1);
      const missing = newSid();
      await touch(missing, newSession({ n: 1 }));
      expect(await get(missing)).toBeFalsy();
    });

    it('the TTL follows the cookie expiry (ceil to seconds) or the browser-session TTL', async () => {
      const withExpiry = newSid();
      await set(withExpiry, newSession({}, 9_500));
      const browser = newSid();
      await set(browser, newSession({}, null));
      expect(await get(browser)).toBeTruthy();
      if (subject.inspectTtl) {
        expect(await subject.inspectTtl(withExpiry)).toBe(10);
        expect(await subject.inspectTtl(browser)).toBe(subject.browserSessionTtl);
        // touch moves the TTL to the new expiry
        await touch(withExpiry, newSession({}, 30_000));
        expect(await subject.inspectTtl(withExpiry)).toBe(30);
      }
    });

    it('records expire: by cookie expiry, and by the browser-session TTL', async () => {
      const expiring = newSid();
      await set(expiring, newSession({}, 1_000));
      const touched = newSid();
      await set(touched, newSession({}, 1_000));
      await touch(touched, newSession({}, 5_000));
      const browser = newSid();
      await viaCallback(subject.shortTtlStore, 'set', browser, newSession({}, null));
      expect(await get(expiring)).toBeTruthy();
      await sleep(1_150);
      expect(await get(expiring)).toBeFalsy();
      expect(await get(touched)).toBeTruthy();
      expect(await viaCallback(subject.shortTtlStore, 'get', browser)).toBeFalsy();
    });

    it('a session saved already expired is deleted, not written', async () => {
      const sid = newSid();
      await set(sid, newSession({ n: 1 }));
      const expired = newSession({ n: 2 });
      (expired.cookie as unknown as Cookie).expires = new Date(Date.now() - 1_000);
      await set(sid, expired);
      expect(await get(sid)).toBeFalsy();
    });

    it('ids, length, all and clear list and remove the stored sessions', async () => {
      await viaCallback(store, 'clear');
      expect(await viaCallback(store, 'length')).toBe(0);
      const sids = [newSid(), newSid(), newSid()];
      for (const [i, sid] of sids.entries()) await set(sid, newSession({ i }));
      expect(((await viaCallback<string[]>(store, 'ids')) ?? []).sort()).toEqual([...sids].sort());
      expect(await viaCallback(store, 'length')).toBe(3);
      const all = byId(await viaCallback(store, 'all'));
      expect(Object.keys(all).sort()).toEqual([...sids].sort());
      expect(all[sids[1] as string]?.i).toBe(1);
      await destroy(sids[0] as string);
      expect(await viaCallback(store, 'length')).toBe(2);
      await viaCallback(store, 'clear');
      expect(await viaCallback(store, 'length')).toBe(0);
      expect(await get(sids[1] as string)).toBeFalsy();
    });

    it('concurrent destroy vs save of a stored session: no resurrection (or documented)', async () => {
      const sid = newSid();
      await set(sid, newSession({ n: 1 }));
      // Request A reads the session; request B (logout in another tab) destroys it; A then saves.
      const loaded = loadedSession(sid, (await get(sid)) as SessionRecord);
      await destroy(sid);
      loaded.n = 2;
      await set(sid, loaded);
      if (subject.preventsResurrection) expect(await get(sid)).toBeFalsy();
      else expect((await get(sid))?.n).toBe(2); // this store resurrects the session
      // A touch after the destroy never brings it back.
      await destroy(sid);
      await touch(sid, loaded);
      expect(await get(sid)).toBeFalsy();
      // A new session under the same id (not read from the store) is written unconditionally.
      await set(sid, newSession({ n: 3 }));
      expect((await get(sid))?.n).toBe(3);
      // And a stored session whose record still exists is saved normally.
      const again = loadedSession(sid, (await get(sid)) as SessionRecord);
      again.n = 4;
      await set(sid, again);
      expect((await get(sid))?.n).toBe(4);
    });

    it('parallel saves and reads of different sessions do not interfere', async () => {
      const sids = Array.from({ length: 20 }, () => newSid());
      await Promise.all(sids.map((sid, i) => set(sid, newSession({ i }))));
      const records = await Promise.all(sids.map((sid) => get(sid)));
      expect(records.map((r) => r?.i)).toEqual(sids.map((_, i) => i));
    });

    it('promise style: every method returns a promise without a callback', async () => {
      if (!subject.promiseStyle) {
        // A callback-only store: calling without a callback returns no promise.
        expect(() => viaPromise(store, 'destroy', newSid())).toThrow(/did not return a promise/);
        return;
      }
      const sid = newSid();
      await viaPromise(store, 'set', sid, newSession({ p: 1 }));
      expect((await viaPromise<SessionRecord>(store, 'get', sid))?.p).toBe(1);
      await viaPromise(store, 'touch', sid, newSession({}, 120_000));
      expect(await viaPromise<string[]>(store, 'ids')).toContain(sid);
      expect(await viaPromise<number>(store, 'length')).toBeGreaterThanOrEqual(1);
      expect(byId(await viaPromise(store, 'all'))[sid]?.p).toBe(1);
      await viaPromise(store, 'destroy', sid);
      expect(await viaPromise(store, 'get', sid)).toBeFalsy();
      await viaPromise(store, 'clear');
      expect(await viaPromise<number>(store, 'length')).toBe(0);
    });
  });
}
