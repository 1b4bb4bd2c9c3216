/**
 * `expired` events from a RedisStore on a private three-master Redis Cluster: the store
 * subscribes on every node (notifications are local to the node that expires the key), so
 * sessions spread over all masters are each reported, by exactly one of two instances, with
 * their users.
 */
import 'reflect-metadata';
import { RedisStore } from '../../lib';
import { eventually } from '../support/eventually';
import {
  type ExpiryApp,
  bootExpiryApp,
  loginUsers,
  expectEachReportedOnce,
} from '../support/expiry-app';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { type RedisClusterHandle, ready, startRedisCluster } from '../support/redis-server';

describe.each(HTTP_ADAPTERS)('expired events on a Redis Cluster (%s)', (kind) => {
  let cluster: RedisClusterHandle;
  const apps: ExpiryApp[] = [];
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    for (const { app } of apps.splice(0)) await app.close();
    for (const store of stores.splice(0)) store.close();
    await cluster?.stop();
  });

  async function instance(): Promise<ExpiryApp> {
    const client = cluster.cluster();
    client.on('error', () => undefined);
    await ready(client);
    const store = new RedisStore({ client, prefix: cluster.prefix, expiryEvents: 'configure' });
    stores.push(store);
    const running = await bootExpiryApp(kind, { store, cookie: { maxAge: 1000 } });
    apps.push(running);
    return running;
  }

  it('reports the sessions expiring on every master, each by exactly one of two instances', async () => {
    const a = await instance();
    const b = await instance();
    // Every node configured for `Ex` (by the stores' CONFIG SET).
    const nodes = cluster.nodes.map((_, i) => cluster.nodeClient(i));
    const configured = async () =>
      (
        await Promise.all(
          nodes.map(
            async (n) => ((await n.config('GET', 'notify-keyspace-events')) as string[])[1],
          ),
        )
      ).every((flags) => /E/.test(flags as string) && /x/.test(flags as string));
    expect(await eventually(configured, 5000)).toBe(true);

    const ids = await loginUsers([a, b], 12);
    // The sessions live on more than one master (by their keys' slots).
    const slots = (await nodes[0]?.call('CLUSTER', 'SLOTS')) as [
      number,
      number,
      [string, number],
    ][];
    const masterOf = async (id: string) => {
      const slot = (await nodes[0]?.call('CLUSTER', 'KEYSLOT', `${cluster.prefix}${id}`)) as number;
      return slots.find(([lo, hi]) => slot >= lo && slot <= hi)?.[2][1];
    };
    const masters = new Set(await Promise.all(ids.map(masterOf)));
    expect(masters.size).toBeGreaterThan(1);

    await expectEachReportedOnce([a, b], ids, 8000);
  });
});
