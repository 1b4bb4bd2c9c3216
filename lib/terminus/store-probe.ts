import { randomBytes } from 'node:crypto';
import { EncryptedStore } from '../engine/store/encrypted-store';
import { callStore } from '../engine/store/store-call';
import type { StoreLike } from '../engine/store/store-like';
import { CallbackStoreAdapter } from '../stores/callback-store-adapter';
import { MemoryStore } from '../stores/memory-store';
import { RedisStore } from '../stores/redis/redis-store';

/** One Redis server the probe pinged. */
export interface NodeProbe {
  /** `host:port` of the server (the connected address when known). */
  node: string;
  /** Whether it answered `PING` in time. */
  ok: boolean;
  /** Milliseconds until it answered (or gave up). */
  latencyMs: number;
  /** Why it failed. */
  error?: string;
}

/** What a probe of the session store found. */
export interface StoreProbe {
  /** The store's class name (`RedisStore`, `MemoryStore`, your store's). */
  store: string;
  /** Whether the store answered in time. */
  ok: boolean;
  /** Milliseconds the whole probe took. */
  latencyMs: number;
  /** What the probe sent: `PING` (Redis), `none` (MemoryStore), `get` (any other store). */
  check: 'PING' | 'none' | 'get';
  /** Redis: every server pinged (each Cluster master; the primary of a Sentinel client). */
  nodes?: NodeProbe[];
  /** Why it failed. */
  error?: string;
}

/** The ioredis surface the probe uses (structural: ioredis is an optional peer). */
interface PingableNode {
  ping(): Promise<unknown>;
  options?: { host?: string; port?: number; name?: string; sentinels?: unknown };
  stream?: { remoteAddress?: string; remotePort?: number };
}

interface PingableClient extends PingableNode {
  isCluster?: boolean;
  nodes?(role: 'master'): PingableNode[];
}

/** The store behind the wrappers the module puts around it (callback adapter, encryption). */
export function innermostStore(store: StoreLike): StoreLike {
  let current = store;
  for (;;) {
    if (current instanceof CallbackStoreAdapter) current = current.store;
    else if (current instanceof EncryptedStore) current = current.inner;
    else return current;
  }
}

function storeName(store: StoreLike): string {
  return (store as { constructor?: { name?: string } }).constructor?.name || 'store';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Rejects after `ms` with a message naming what did not answer. */
function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function addressOf(node: PingableNode): string {
  const stream = node.stream;
  if (stream?.remoteAddress && stream.remotePort) {
    return `${stream.remoteAddress}:${stream.remotePort}`;
  }
  const o = node.options ?? {};
  if (o.sentinels && o.name) return `the primary of Sentinel master "${o.name}"`;
  return `${o.host ?? 'localhost'}:${o.port ?? 6379}`;
}

async function pingNode(node: PingableNode, timeoutMs: number): Promise<NodeProbe> {
  const name = addressOf(node);
  const started = performance.now();
  try {
    let work: Promise<unknown>;
    try {
      work = Promise.resolve(node.ping());
    } catch (err) {
      work = Promise.reject(err);
    }
    const reply = await within(work, timeoutMs, `Redis ${name}`);
    if (reply !== 'PONG') throw new Error(`Redis ${name} answered PING with ${String(reply)}`);
    return { node: name, ok: true, latencyMs: elapsed(started) };
  } catch (err) {
    return { node: name, ok: false, latencyMs: elapsed(started), error: messageOf(err) };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

async function probeRedis(store: RedisStore, timeoutMs: number): Promise<StoreProbe> {
  const started = performance.now();
  const client = store.client as unknown as PingableClient;
  const nodes = client.isCluster ? (client.nodes?.('master') ?? []) : [client];
  if (nodes.length === 0) {
    return {
      store: 'RedisStore',
      ok: false,
      check: 'PING',
      latencyMs: elapsed(started),
      nodes: [],
      error: 'the Redis Cluster client knows no master (not connected yet?)',
    };
  }
  const results = await Promise.all(nodes.map((node) => pingNode(node, timeoutMs)));
  const failed = results.filter((r) => !r.ok);
  return {
    store: 'RedisStore',
    ok: failed.length === 0,
    check: 'PING',
    latencyMs: elapsed(started),
    nodes: results,
    ...(failed.length > 0 && { error: failed.map((r) => r.error).join('; ') }),
  };
}

function probeByGet(store: StoreLike, name: string, timeoutMs: number): Promise<StoreProbe> {
  const started = performance.now();
  // An id no session has: the store's answer ("none") is all that matters.
  const sid = `health-check-${randomBytes(12).toString('base64url')}`;
  return new Promise((resolve) => {
    callStore(store, 'get', [sid], timeoutMs, (err) => {
      const base = { store: name, check: 'get' as const, latencyMs: elapsed(started) };
      if (err && (err as { code?: unknown }).code !== 'ENOENT') {
        resolve({ ...base, ok: false, error: `${name}: ${messageOf(err)}` });
      } else resolve({ ...base, ok: true });
    });
  });
}

/**
 * Checks that the session store answers, within `timeoutMs`: one `PING` per Redis server for a
 * {@link RedisStore} (each master of a Cluster, the connected primary otherwise), nothing for a
 * {@link MemoryStore} (it lives in this process), a `get` of a random id for any other store.
 * Never rejects: a failure is a probe with `ok: false` and the reason.
 */
export function probeStore(store: StoreLike, timeoutMs: number): Promise<StoreProbe> {
  const inner = innermostStore(store);
  if (inner instanceof RedisStore) return probeRedis(inner, timeoutMs);
  if (inner instanceof MemoryStore) {
    return Promise.resolve({ store: 'MemoryStore', ok: true, check: 'none', latencyMs: 0 });
  }
  return probeByGet(store, storeName(inner), timeoutMs);
}
