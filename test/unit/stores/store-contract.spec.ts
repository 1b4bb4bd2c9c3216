/**
 * The shared store contract against every kind of store: MemoryStore, RedisStore on a standalone
 * Redis and on a Redis Cluster, and a callback-style express-session store (a third-party style
 * store written here, records in a Map).
 */
import type { SessionRecord } from '../../../lib/engine/session-data';
import { MemoryStore } from '../../../lib/stores/memory-store';
import { RedisStore } from '../../../lib/stores/redis/redis-store';
import { Store } from '../../../lib/engine/store/store';
import type { StoreLike } from '../../../lib/engine/store/store-like';
import { startRedis, startRedisCluster } from '../../support/redis-server';
import { describeStoreContract } from '../../support/store-contract';

type Callback = (err?: unknown, result?: unknown) => void;

/**
 * A store written the way third-party express-session stores are: ES5 constructor on the Store
 * base, callbacks only, TTL from the cookie (or `ttlSeconds`). It knows nothing of which session
 * was read from the store, so it cannot refuse to resurrect a destroyed session.
 */
interface CallbackStore extends StoreLike {
  records: Map<string, { json: string; expiresAt: number }>;
  ttlSeconds: number;
}

function CallbackStore(this: CallbackStore, ttlSeconds = 86_400): void {
  Store.call(this as unknown as Store);
  this.records = new Map();
  this.ttlSeconds = ttlSeconds;
}
Object.setPrototypeOf(CallbackStore.prototype, Store.prototype);

function expiryOf(store: CallbackStore, session: SessionRecord): number {
  const expires = session.cookie?.expires;
  return expires
    ? new Date(expires as string | Date).getTime()
    : Date.now() + store.ttlSeconds * 1000;
}

function live(store: CallbackStore, sid: string) {
  const entry = store.records.get(sid);
  if (entry && entry.expiresAt <= Date.now()) {
    store.records.delete(sid);
    return undefined;
  }
  return entry;
}

Object.assign(CallbackStore.prototype, {
  get(this: CallbackStore, sid: string, cb: Callback) {
    const entry = live(this, sid);
    setImmediate(cb, null, entry ? JSON.parse(entry.json) : undefined);
  },
  set(this: CallbackStore, sid: string, session: SessionRecord, cb?: Callback) {
    const expiresAt = expiryOf(this, session);
    if (expiresAt <= Date.now()) this.records.delete(sid);
    else this.records.set(sid, { json: JSON.stringify(session), expiresAt });
    if (cb) setImmediate(cb);
  },
  destroy(this: CallbackStore, sid: string, cb?: Callback) {
    this.records.delete(sid);
    if (cb) setImmediate(cb);
  },
  touch(this: CallbackStore, sid: string, session: SessionRecord, cb?: Callback) {
    const entry = live(this, sid);
    if (entry) entry.expiresAt = expiryOf(this, session);
    if (cb) setImmediate(cb);
  },
  all(this: CallbackStore, cb: Callback) {
    const out: Record<string, unknown> = {};
    for (const sid of [...this.records.keys()]) {
      const entry = live(this, sid);
      if (entry) out[sid] = JSON.parse(entry.json);
    }
    setImmediate(cb, null, out);
  },
  ids(this: CallbackStore, cb: Callback) {
    setImmediate(
      cb,
      null,
      [...this.records.keys()].filter((sid) => live(this, sid)),
    );
  },
  length(this: CallbackStore, cb: Callback) {
    setImmediate(cb, null, [...this.records.keys()].filter((sid) => live(this, sid)).length);
  },
  clear(this: CallbackStore, cb?: Callback) {
    this.records.clear();
    if (cb) setImmediate(cb);
  },
});

const newCallbackStore = (ttlSeconds?: number) =>
  new (CallbackStore as unknown as new (ttl?: number) => CallbackStore)(ttlSeconds);

describeStoreContract('MemoryStore', async () => ({
  store: new MemoryStore({ pruneInterval: 0 }),
  shortTtlStore: new MemoryStore({ pruneInterval: 0, ttl: 1_000 }),
  browserSessionTtl: 86_400,
  promiseStyle: true,
  preventsResurrection: true,
  teardown: async () => undefined,
}));

describeStoreContract('RedisStore (standalone)', async () => {
  const redis = await startRedis();
  const client = redis.client();
  return {
    store: new RedisStore({ client, prefix: redis.prefix }),
    shortTtlStore: new RedisStore({ client, prefix: redis.prefix, ttl: 1 }),
    browserSessionTtl: 86_400,
    promiseStyle: true,
    preventsResurrection: true,
    inspectTtl: async (sid) => {
      const ttl = await client.ttl(redis.prefix + sid);
      return ttl === -2 ? undefined : ttl === -1 ? null : ttl;
    },
    teardown: () => redis.stop(),
  };
});

describeStoreContract('RedisStore (Redis Cluster, 3 masters)', async () => {
  const redis = await startRedisCluster();
  const client = redis.cluster();
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  return {
    store: new RedisStore({ client, prefix: redis.prefix }),
    shortTtlStore: new RedisStore({ client, prefix: redis.prefix, ttl: 1 }),
    browserSessionTtl: 86_400,
    promiseStyle: true,
    preventsResurrection: true,
    inspectTtl: async (sid) => {
      const ttl = await client.ttl(redis.prefix + sid);
      return ttl === -2 ? undefined : ttl === -1 ? null : ttl;
    },
    teardown: () => redis.stop(),
  };
});

describeStoreContract('callback-style express-session store (third-party style)', async () => ({
  store: newCallbackStore(),
  shortTtlStore: newCallbackStore(1),
  browserSessionTtl: 86_400,
  promiseStyle: false,
  // It cannot tell a session read from the store from a new one: a save after a concurrent
  // destroy brings the session back. The contract asserts that behaviour for such stores.
  preventsResurrection: false,
  teardown: async () => undefined,
}));
