/**
 * `expired` events on a MemoryStore and on a store of your own, through real HTTP: a session
 * the MemoryStore's sweep removes, one a read finds expired (sweep off), and a record a
 * third-party store still returns after its expiry (the engine reports it on load, with the
 * request). The user comes from the per-user index (`userKey`), or from the loaded record.
 */
import 'reflect-metadata';
import request from 'supertest';
import { MemoryStore, type SessionRecord, Store } from '../../lib';
import { eventually } from '../support/eventually';
import { type ExpiryApp, bootExpiryApp, cookieOf, sleep } from '../support/expiry-app';
import { HTTP_ADAPTERS } from '../support/http-adapters';

/** A callback store that never looks at expiry (many express-session stores leave it to a TTL). */
class ForgetfulStore extends Store {
  readonly records = new Map<string, string>();
  get(sid: string, cb: (err: unknown, s?: SessionRecord | null) => void): void {
    const json = this.records.get(sid);
    setImmediate(cb, null, json === undefined ? null : JSON.parse(json));
  }
  set(sid: string, s: SessionRecord, cb: (err?: unknown) => void): void {
    this.records.set(sid, JSON.stringify(s));
    setImmediate(cb);
  }
  destroy(sid: string, cb: (err?: unknown) => void): void {
    this.records.delete(sid);
    setImmediate(cb);
  }
}

describe.each(HTTP_ADAPTERS)('expired events without Redis (%s)', (kind) => {
  let running: ExpiryApp | undefined;
  afterEach(async () => {
    await running?.app.close();
    running = undefined;
  });

  it("reports a session the MemoryStore's sweep removed, with its user, once", async () => {
    const store = new MemoryStore({ pruneInterval: 50 });
    running = await bootExpiryApp(kind, { store, cookie: { maxAge: 200 } });
    const { app, hooked, emitted } = running;
    const res = await request(app.getHttpServer()).post('/login').send({ user: 'bob' }).expect(201);
    const id = res.body.id as string;

    expect(await eventually(async () => hooked.length > 0, 3000)).toBe(true);
    expect(hooked).toEqual([{ sessionId: id, userId: 'bob', source: 'store', req: undefined }]);
    expect(await eventually(async () => emitted.length > 0, 1000)).toBe(true);
    expect(emitted).toEqual(hooked);
    expect(await store.length()).toBe(0);
    store.close();
  });

  it('reports a session a read found expired (sweep off); the request gets a fresh session', async () => {
    const store = new MemoryStore({ pruneInterval: 0 });
    running = await bootExpiryApp(kind, { store, cookie: { maxAge: 150 } });
    const { app, hooked } = running;
    const server = app.getHttpServer();
    const login = await request(server).post('/login').expect(201);
    await sleep(200);
    expect(hooked).toEqual([]); // nothing swept it: it is found on the next read
    const me = await request(server).get('/me').set('Cookie', cookieOf(login)).expect(200);
    expect(me.body).toEqual({ id: expect.any(String), user: null });
    expect(me.body.id).not.toBe(login.body.id);
    expect(await eventually(async () => hooked.length > 0)).toBe(true);
    expect(hooked).toEqual([
      { sessionId: login.body.id, userId: 'alice', source: 'store', req: undefined },
    ]);
  });

  it.each([
    ['without userKey', { userKey: undefined }],
    [
      'with encryption (the index holds an HMAC of the user)',
      { encryption: { keys: ['11'.repeat(32)] as string[] } },
    ],
  ] as const)('a session is reported without its user %s', async (_, options) => {
    const store = new MemoryStore({ pruneInterval: 50 });
    running = await bootExpiryApp(kind, { store, cookie: { maxAge: 100 }, ...options });
    const res = await request(running.app.getHttpServer()).post('/login').expect(201);
    const { hooked } = running;
    expect(await eventually(async () => hooked.length > 0, 3000)).toBe(true);
    expect(hooked).toEqual([
      { sessionId: res.body.id, userId: undefined, source: 'store', req: undefined },
    ]);
    store.close();
  });

  it('a store that returns an expired record: the engine reports it on load, with the request', async () => {
    const store = new ForgetfulStore();
    running = await bootExpiryApp(kind, { store, cookie: { maxAge: 100 } });
    const { app, hooked, emitted } = running;
    const server = app.getHttpServer();
    const login = await request(server).post('/login').send({ user: 'carol' }).expect(201);
    await sleep(150);
    const me = await request(server).get('/me').set('Cookie', cookieOf(login)).expect(200);
    expect(me.body.user).toBeNull();
    expect(hooked).toHaveLength(1);
    expect(hooked[0]).toMatchObject({ sessionId: login.body.id, userId: 'carol', source: 'load' });
    expect(hooked[0]?.req).toBeDefined();
    expect(emitted.map((e) => e.sessionId)).toEqual([login.body.id]);
    expect(store.records.has(login.body.id)).toBe(false); // and the record is gone
  });

  it('a session past absoluteTimeout is reported as expired on load', async () => {
    const store = new ForgetfulStore();
    running = await bootExpiryApp(kind, {
      store,
      absoluteTimeout: 100,
      cookie: { maxAge: 60_000 },
    });
    const server = running.app.getHttpServer();
    const login = await request(server).post('/login').expect(201);
    await sleep(150);
    await request(server).get('/me').set('Cookie', cookieOf(login)).expect(200);
    expect(running.hooked.map((e) => [e.sessionId, e.source])).toEqual([[login.body.id, 'load']]);
  });
});
