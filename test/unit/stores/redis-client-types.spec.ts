/**
 * Type-level checks: ioredis 6 `Redis` and `Cluster` fit the structural client type that
 * `RedisStore` declares (lib/stores/redis-client.ts), without lib/ importing ioredis.
 * The assertions are checked by `tsc --noEmit` (npm run typecheck); the runtime part only
 * constructs lazy clients that never connect.
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisClientLike, RedisCommands } from '../../../lib/stores/redis/redis-client';
import { RedisStore } from '../../../lib/stores/redis/redis-store';

describe('RedisClientLike (types)', () => {
  it('accepts an ioredis Redis, a Sentinel-configured Redis and a Cluster', () => {
    const redis = new Redis({ lazyConnect: true });
    const sentinel = new Redis({
      lazyConnect: true,
      sentinels: [{ host: '127.0.0.1', port: 26379 }],
      name: 'mymaster',
    });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });

    const a: RedisClientLike = redis;
    const b: RedisClientLike = sentinel;
    const c: RedisClientLike = cluster;
    const masters: RedisCommands[] = cluster.nodes('master');
    expect([a, b, c, masters]).toHaveLength(4);

    // The store constructor takes them directly.
    const stores = [redis, sentinel, cluster].map((client) => new RedisStore({ client }));
    expect(stores).toHaveLength(3);

    redis.disconnect();
    sentinel.disconnect();
    cluster.disconnect();
  });

  it('rejects values that are not Redis clients', () => {
    // @ts-expect-error a plain object lacks the commands
    const notAClient: RedisClientLike = { get: async () => null };
    // @ts-expect-error the client option is required
    const noClient = () => new RedisStore({});
    expect(notAClient).toBeDefined();
    expect(noClient).toBeInstanceOf(Function);
  });
});
