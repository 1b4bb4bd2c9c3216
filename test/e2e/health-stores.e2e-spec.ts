/**
 * `GET /health` on the stores that are not Redis: a MemoryStore (nothing to ask: always up), a
 * store of your own (a `get` of a random id: up when it answers, down naming it when it fails or
 * does not answer within `timeout`), and a bad `timeout` failing the boot with the option named.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { MemoryStore, SessionOptionsError, type SessionRecord, Store } from '../../lib';
import { bootHealthApp } from '../support/health-app';
import { HTTP_ADAPTERS } from '../support/http-adapters';

const TIMEOUT = 200;

/** A callback-style (express-session) store whose `get` answers, fails or hangs on demand. */
class LegacyStore extends Store {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  gets: string[] = [];
  get(sid: string, cb: (err: unknown, s?: SessionRecord | null) => void): void {
    this.gets.push(sid);
    if (this.mode === 'ok') setImmediate(cb, null, null);
    else if (this.mode === 'fail') setImmediate(cb, new Error('connection refused'));
  }
  set(_sid: string, _s: SessionRecord, cb: (err?: unknown) => void): void {
    setImmediate(cb);
  }
  destroy(_sid: string, cb: (err?: unknown) => void): void {
    setImmediate(cb);
  }
}

describe.each(HTTP_ADAPTERS)('session health check on other stores (%s)', (kind) => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  const boot = async (...args: Parameters<typeof bootHealthApp>) => {
    const app = await bootHealthApp(...args);
    apps.push(app);
    return app;
  };

  it('is up on a MemoryStore without asking it anything', async () => {
    const store = new MemoryStore();
    const app = await boot(kind, { store });
    const res = await request(app.getHttpServer()).get('/health').expect(200);
    expect(res.body.info.session).toMatchObject({
      status: 'up',
      store: 'MemoryStore',
      check: 'none',
      latencyMs: 0,
    });
    store.close();
  });

  it('is up on the default store (the MemoryStore the module creates)', async () => {
    const app = await boot(kind, {});
    const res = await request(app.getHttpServer()).get('/health').expect(200);
    expect(res.body.info.session).toMatchObject({ status: 'up', store: 'MemoryStore' });
  });

  it('reads a random id from a store of its own: up, down when it fails, down when it hangs', async () => {
    const store = new LegacyStore();
    const app = await boot(kind, { store }, { timeout: TIMEOUT });
    const server = app.getHttpServer();

    let res = await request(server).get('/health').expect(200);
    expect(res.body.info.session).toMatchObject({
      status: 'up',
      store: 'LegacyStore',
      check: 'get',
    });
    expect(store.gets).toHaveLength(1);
    expect(store.gets[0]).toMatch(/^health-check-/);

    store.mode = 'fail';
    res = await request(server).get('/health').expect(503);
    expect(res.body.error.session.message).toBe(
      'LegacyStore is unavailable: LegacyStore: connection refused',
    );

    store.mode = 'hang';
    res = await request(server).get('/health').expect(503);
    expect(res.body.error.session.message).toMatch(/^LegacyStore is unavailable: /);
    expect(res.body.error.session.message).toMatch(/200 ?ms/);

    store.mode = 'ok';
    await request(server).get('/health').expect(200);
    expect(new Set(store.gets).size).toBe(store.gets.length); // a new random id each time
  });

  it.each([0, -5, Number.NaN, Infinity, '1000'])(
    'refuses timeout %p at startup, naming the option',
    async (timeout) => {
      const boot = bootHealthApp(kind, {}, { timeout: timeout as number });
      await expect(boot).rejects.toThrow(SessionOptionsError);
      await expect(boot).rejects.toThrow(/invalid option "health\.timeout"/);
    },
  );
});
