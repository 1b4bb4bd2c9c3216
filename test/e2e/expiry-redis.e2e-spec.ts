/**
 * `expired` events from a RedisStore on a private redis-server, through real HTTP: keyspace
 * notifications (`expiryEvents`), the user from the owner record, exactly one report per expiry
 * with two application instances (two stores) on one Redis, `'configure'` again after a Redis
 * restart, `'preconfigured'` on a server with and without the setting, and the engine's report
 * of a record it loads after its cookie's expiry (no double report: the engine deletes it).
 */
import 'reflect-metadata';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { RedisStore } from '../../lib';
import { eventually } from '../support/eventually';
import {
  type ExpiryApp,
  bootExpiryApp,
  loginUsers,
  cookieOf,
  expectEachReportedOnce,
} from '../support/expiry-app';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { type RedisHandle, ready, startRedis } from '../support/redis-server';

async function notifySetting(client: Redis): Promise<string> {
  return ((await client.config('GET', 'notify-keyspace-events')) as string[])[1] as string;
}

describe.each(HTTP_ADAPTERS)('expired events on RedisStore (%s)', (kind) => {
  let redis: RedisHandle;
  let admin: Redis;
  const apps: ExpiryApp[] = [];
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    redis = await startRedis({ requirePrivate: true });
    admin = redis.client();
    admin.on('error', () => undefined);
  });
  afterEach(async () => {
    for (const { app } of apps.splice(0)) await app.close();
    for (const store of stores.splice(0)) store.close();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** An application instance on its own client and RedisStore, sharing the one Redis. */
  async function instance(
    expiryEvents: 'configure' | 'preconfigured',
    maxAge = 1000,
  ): Promise<ExpiryApp & { store: RedisStore; warnings: string[] }> {
    const client = redis.client();
    client.on('error', () => undefined);
    await ready(client);
    const store = new RedisStore({ client, prefix: redis.prefix, expiryEvents });
    const warnings: string[] = [];
    store.on('warning', (w: Error) => warnings.push(w.message));
    stores.push(store);
    const running = await bootExpiryApp(kind, { store, cookie: { maxAge } });
    apps.push(running);
    return { ...running, store, warnings };
  }

  it("'configure' turns the notifications on and reports an expiry with its user", async () => {
    await admin.config('SET', 'notify-keyspace-events', '');
    const a = await instance('configure');
    expect(await eventually(async () => (await notifySetting(admin)).includes('E'), 3000)).toBe(
      true,
    );
    expect(await notifySetting(admin)).toMatch(/^(?=.*E)(?=.*x)/);
    const login = await request(a.app.getHttpServer())
      .post('/login')
      .send({ user: 'bob' })
      .expect(201);
    expect(await admin.exists(`${redis.prefix}${login.body.id}`)).toBe(1);
    expect(await eventually(async () => a.hooked.length > 0, 5000)).toBe(true);
    expect(a.hooked).toEqual([
      { sessionId: login.body.id, userId: 'bob', source: 'store', req: undefined },
    ]);
    expect(await eventually(async () => a.emitted.length > 0)).toBe(true);
    expect(a.emitted).toEqual(a.hooked);
    // The owner record went with the report.
    expect(
      await admin.exists(`${redis.prefix.replace(/:$/, '')}-expiry:owner:${login.body.id}`),
    ).toBe(0);
  });

  it('two instances on one Redis: each expiry is reported by exactly one of them', async () => {
    const a = await instance('configure');
    const b = await instance('configure');
    // Both stores listen: each hears every expiry, and one claim decides who reports it.
    const listening = async () =>
      ((await admin.call('PUBSUB', 'NUMSUB', '__keyevent@0__:expired')) as [string, number])[1];
    expect(await eventually(async () => (await listening()) === 2, 3000)).toBe(true);
    const ids = await loginUsers([a, b], 6);
    await expectEachReportedOnce([a, b], ids, 6000);
  });

  it("'configure' again after Redis restarts: the server forgot it, the store sets it anew", async () => {
    const a = await instance('configure');
    expect(await eventually(async () => (await notifySetting(admin)).includes('E'), 3000)).toBe(
      true,
    );
    await redis.down();
    await redis.up();
    expect(await eventually(async () => (await notifySetting(admin)).includes('E'), 10_000)).toBe(
      true,
    );
    const login = await request(a.app.getHttpServer()).post('/login').expect(201);
    expect(await eventually(async () => a.hooked.length > 0, 5000)).toBe(true);
    expect(a.hooked.map((e) => e.sessionId)).toEqual([login.body.id]);
  });

  it("'preconfigured' warns when the server lacks the setting, and reports once it has it", async () => {
    await admin.config('SET', 'notify-keyspace-events', '');
    const a = await instance('preconfigured');
    expect(await eventually(async () => a.warnings.length > 0, 3000)).toBe(true);
    expect(a.warnings[0]).toMatch(/notify-keyspace-events is "" on .*, without "Ex"/);
    expect(await notifySetting(admin)).toBe(''); // never set by the store
    await admin.config('SET', 'notify-keyspace-events', 'Ex');
    const login = await request(a.app.getHttpServer()).post('/login').expect(201);
    expect(await eventually(async () => a.hooked.length > 0, 5000)).toBe(true);
    expect(a.hooked.map((e) => [e.sessionId, e.source])).toEqual([[login.body.id, 'store']]);
  });

  it('a record loaded after its cookie expired is reported by the engine, once', async () => {
    await admin.config('SET', 'notify-keyspace-events', 'Ex');
    const a = await instance('preconfigured', 60_000);
    const server = a.app.getHttpServer();
    const login = await request(server).post('/login').send({ user: 'dave' }).expect(201);
    const key = `${redis.prefix}${login.body.id}`;
    // The record says it expired a second ago; Redis still holds it for a minute.
    const record = JSON.parse((await admin.get(key)) as string);
    record.cookie.expires = new Date(Date.now() - 1000).toISOString();
    await admin.set(key, JSON.stringify(record), 'EX', 60);
    const me = await request(server).get('/me').set('Cookie', cookieOf(login)).expect(200);
    expect(me.body.user).toBeNull();
    expect(a.hooked).toHaveLength(1);
    expect(a.hooked[0]).toMatchObject({ sessionId: login.body.id, userId: 'dave', source: 'load' });
    expect(await eventually(async () => (await admin.exists(key)) === 0)).toBe(true);
  });

  it('refuses a bad expiryEvents or expiryPrefix, naming the option', () => {
    const client = redis.client();
    expect(() => new RedisStore({ client, expiryEvents: 'yes' as never })).toThrow(
      /RedisStore option expiryEvents must be false, 'configure' or 'preconfigured'/,
    );
    expect(() => new RedisStore({ client, expiryPrefix: 'sess:x:' })).toThrow(
      /RedisStore option expiryPrefix must not start with prefix/,
    );
    client.disconnect();
  });
});
