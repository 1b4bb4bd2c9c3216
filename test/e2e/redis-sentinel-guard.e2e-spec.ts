/**
 * The Sentinel failover guard against a real Sentinel setup, at the moments the load test only
 * hits by chance. Found by the failover suite: when the primary is killed, the client is often
 * still asking a sentinel for the primary when `+switch-master` arrives. Dropping the connection
 * then (ioredis `disconnect(true)` while `connecting`) fails that attempt and ends the client for
 * good: every later command failed ("Connection is closed"), 503s until the app restarted.
 */
import type Redis from 'ioredis';
import { SentinelFailoverGuard, sentinelSettingsOf } from '../../lib/stores/redis/failover-guard';
import { RedisStore } from '../../lib';
import { eventually } from '../support/eventually';
import { type RedisSentinelHandle, startRedisSentinel } from '../support/redis-sentinel';

jest.setTimeout(60_000);

describe('SentinelFailoverGuard on a real Sentinel setup', () => {
  let sentinel: RedisSentinelHandle;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  });
  afterAll(() => sentinel?.stop());

  function guardOf(client: Redis, warnings: string[]): SentinelFailoverGuard {
    const settings = sentinelSettingsOf(client);
    if (!settings) throw new Error('not a Sentinel client');
    return new SentinelFailoverGuard(
      client as unknown as ConstructorParameters<typeof SentinelFailoverGuard>[0],
      settings,
      (message) => warnings.push(message),
      10_000,
    );
  }

  async function ready(client: Redis): Promise<void> {
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  }

  it('a switch while the client is still asking a sentinel for the primary: the client survives and writes go on', async () => {
    const client = sentinel.client();
    client.on('error', () => undefined);
    await ready(client);
    const warnings: string[] = [];
    const guard = guardOf(client, warnings);
    let ended = false;
    client.on('end', () => (ended = true));
    // Force a reconnect, and start a switch the moment ioredis is asking a sentinel again.
    const switched = new Promise<void>((resolve) =>
      client.once('connecting', () => {
        expect(client.status).toBe('connecting');
        guard.onReadOnly();
        resolve();
      }),
    );
    client.disconnect(true);
    await switched;
    expect(guard.holding).toBe(true);
    // The guard verifies the new connection (ROLE master) and stops holding.
    expect(await eventually(async () => !guard.holding, 10_000)).toBe(true);
    expect(ended).toBe(false);
    expect(client.status).toBe('ready');
    await expect(client.set(`${sentinel.prefix}k`, 'v')).resolves.toBe('OK');
    guard.close();
    client.disconnect();
  });

  it('a READONLY answer while connected: reconnects, verifies the primary, then releases', async () => {
    const client = sentinel.client();
    client.on('error', () => undefined);
    await ready(client);
    const warnings: string[] = [];
    const guard = guardOf(client, warnings);
    const released: string[] = [];
    guard.onReadOnly();
    guard.defer(() => released.push('write'));
    expect(guard.holding).toBe(true);
    expect(await eventually(async () => released.length > 0, 10_000)).toBe(true);
    expect(released).toEqual(['write']);
    expect(guard.holding).toBe(false);
    expect(warnings.some((w) => w.includes('READONLY'))).toBe(true);
    guard.close();
    client.disconnect();
  });

  it('a RedisStore on a client that is reconnecting keeps working after a switch', async () => {
    const client = sentinel.client();
    client.on('error', () => undefined);
    const store = new RedisStore({ client, prefix: sentinel.prefix });
    store.on('warning', () => undefined);
    await ready(client);
    const session = { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) } };
    await new Promise<void>((resolve, reject) =>
      store.set('a', session as never, (err) => (err ? reject(err) : resolve())),
    );
    // The same moment as above, reached through the store's own guard: a READONLY reply is how
    // a store learns of a switch it did not hear of; here the client drops and the guard starts
    // its switch while ioredis is asking a sentinel.
    const guard = (store as unknown as { failoverGuard: SentinelFailoverGuard }).failoverGuard;
    const switched = new Promise<void>((resolve) =>
      client.once('connecting', () => {
        guard.onReadOnly();
        resolve();
      }),
    );
    client.disconnect(true);
    await switched;
    await new Promise<void>((resolve, reject) =>
      store.set('b', session as never, (err) => (err ? reject(err) : resolve())),
    );
    const read = await new Promise<unknown>((resolve, reject) =>
      store.get('b', (err, value) => (err ? reject(err) : resolve(value))),
    );
    expect(read).toMatchObject({ cookie: { originalMaxAge: 60_000 } });
    await store.close();
  });
});
