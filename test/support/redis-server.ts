/**
 * Real Redis for the tests: a private `redis-server` (from PATH) on a free port, or the server
 * named by `REDIS_URL`, and a private three-master Redis Cluster.
 *
 * - A private server runs with `--save '' --appendonly no` in its own temp dir and is killed by
 *   `stop()`; it can also be taken down and brought back on the same port (`down()`/`up()`).
 * - With `REDIS_URL`, nothing is started: tests must use the returned unique `prefix` for their
 *   keys, and `stop()` deletes only the keys under it (never FLUSHALL/FLUSHDB a shared server).
 * - Without `REDIS_URL` and without `redis-server`, it fails with instructions (never skips).
 *
 * Every client handed out by `client()`/`cluster()` is disconnected by `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export const HOST = '127.0.0.1';

/** A Redis for one test file. */
export interface RedisHandle {
  /** `redis://host:port[/db]`. */
  url: string;
  host: string;
  port: number;
  /** A key prefix unique to this handle: use it for every key the tests write. */
  prefix: string;
  /** True when the server was started by this handle (fault tests need that). */
  isPrivate: boolean;
  /** A new ioredis client (disconnected by `stop()`). */
  client(options?: RedisOptions): Redis;
  /** Private server only: kills the server (SIGKILL: like a crash), keeping port and dir. */
  down(): Promise<void>;
  /** Private server only: starts the server again on the same port. */
  up(): Promise<void>;
  /** Disconnects the clients, then kills the private server (or deletes the prefixed keys). */
  stop(): Promise<void>;
  /**
   * Private server only: kills it at once and removes its folder, synchronously (for exit and
   * signal handlers, as the benchmark's; prefer `stop()` elsewhere).
   */
  killNow(): void;
}

/** A private three-master Redis Cluster (with a replica per master if asked). */
export interface RedisClusterHandle {
  nodes: { host: string; port: number }[];
  /**
   * With replicas only: kills the master holding `key`'s slot (SIGKILL), resolves once its
   * replica has taken over (cluster state ok again), then restarts the killed node (it rejoins
   * as a replica) and resolves once it is in sync.
   */
  killMasterOf(key: string): Promise<{ from: number; to: number }>;
  /** A key prefix unique to this handle. */
  prefix: string;
  /** A new ioredis Cluster client (disconnected by `stop()`). */
  cluster(options?: ClusterOptions): Cluster;
  /** A new ioredis client to one node (disconnected by `stop()`). */
  nodeClient(index: number): Redis;
  /** Disconnects the clients and kills the three servers. */
  stop(): Promise<void>;
  /** Kills every node at once and removes the folder, synchronously (see `RedisHandle`). */
  killNow(): void;
}

export const INSTALL_HINT =
  'Redis is required by these tests: install redis-server and redis-tools ' +
  '(Debian/Ubuntu: `apt-get install -y redis-server redis-tools`; macOS: `brew install redis`) ' +
  'so that `redis-server` and `redis-cli` are on PATH, or set REDIS_URL=redis://host:port to a ' +
  'Redis you own (the tests only touch keys under a unique prefix there).';

export function uniquePrefix(): string {
  return `nest-session-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

export function hasBinary(name: string): boolean {
  const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/** A free port whose cluster-bus port (+10000) is free too. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('no free port found for redis-server');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForPing(port: number, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  let lastError: unknown;
  while (Date.now() < until) {
    const probe = new Redis({
      host: HOST,
      port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch (err) {
      lastError = err;
    } finally {
      probe.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not start: ${String(lastError)}`);
}

export class ServerProcess {
  private child: ChildProcess | undefined;
  private output = '';

  /**
   * @param sentinelConfig a Sentinel's configuration file: the process runs as `redis-server
   *   <file> --sentinel` (Sentinel rewrites that file, so each sentinel needs its own)
   */
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: string[] = [],
    private readonly sentinelConfig?: string,
  ) {}

  async start(): Promise<void> {
    if (this.sentinelConfig !== undefined)
      return this.spawn([
        this.sentinelConfig,
        '--sentinel',
        '--port',
        String(this.port),
        '--bind',
        HOST,
        '--dir',
        this.dir,
        '--protected-mode',
        'no',
        ...this.extraArgs,
      ]);
    return this.spawn([
      '--port',
      String(this.port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--protected-mode',
      'no',
      ...this.extraArgs,
    ]);
  }

  private async spawn(args: string[]): Promise<void> {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`${INSTALL_HINT} (${err.message})`)));
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited (${code}) on start:\n${this.output}`)),
      );
    });
    failed.catch(() => undefined);
    await Promise.race([waitForPing(this.port), failed]);
  }

  /** SIGKILL now, without waiting (for `process.on('exit')` handlers, which cannot wait). */
  killNow(): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

export function clientTracker() {
  const clients: (Redis | Cluster)[] = [];
  return {
    track<T extends Redis | Cluster>(client: T): T {
      clients.push(client);
      return client;
    },
    async closeAll(): Promise<void> {
      for (const c of clients.splice(0)) {
        // quit is polite but hangs on a dead server: disconnect right away.
        c.disconnect();
      }
      // ioredis waits up to `disconnectTimeout` (100 ms here) for a half-closed socket.
      await sleep(150);
    },
  };
}

/**
 * A Redis for one test file: `REDIS_URL` when set (unless `requirePrivate`), else a private
 * `redis-server` on a free port.
 */
export async function startRedis(options: { requirePrivate?: boolean } = {}): Promise<RedisHandle> {
  const prefix = uniquePrefix();
  const tracker = clientTracker();
  const sharedUrl = process.env.REDIS_URL;
  if (sharedUrl && !options.requirePrivate) {
    const parsed = new URL(sharedUrl);
    const host = parsed.hostname || HOST;
    const port = Number(parsed.port || 6379);
    const client = (extra: RedisOptions = {}) =>
      tracker.track(new Redis(sharedUrl, { disconnectTimeout: 100, ...extra }));
    const notPrivate = async () => {
      throw new Error('down()/up() need a private redis-server (REDIS_URL is shared)');
    };
    return {
      url: sharedUrl,
      host,
      port,
      prefix,
      isPrivate: false,
      client,
      down: notPrivate,
      up: notPrivate,
      killNow: () => undefined,
      async stop() {
        const cleaner = new Redis(sharedUrl);
        try {
          let cursor = '0';
          const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
          do {
            const [next, keys] = await cleaner.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
            cursor = next;
            if (keys.length > 0) await cleaner.del(...keys);
          } while (cursor !== '0');
        } finally {
          cleaner.disconnect();
          await tracker.closeAll();
        }
      },
    };
  }
  if (!hasBinary('redis-server')) throw new Error(INSTALL_HINT);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nest-session-redis-'));
  const server = new ServerProcess(port, dir);
  try {
    await server.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = `redis://${HOST}:${port}`;
  return {
    url,
    host: HOST,
    port,
    prefix,
    isPrivate: true,
    client: (extra: RedisOptions = {}) =>
      tracker.track(new Redis({ host: HOST, port, disconnectTimeout: 100, ...extra })),
    down: () => server.kill(),
    up: () => server.start(),
    killNow() {
      server.killNow();
      rmSync(dir, { recursive: true, force: true });
    },
    async stop() {
      await tracker.closeAll();
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` on a short-lived connection to one node. */
async function onNode<T>(server: ServerProcess, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({
    host: HOST,
    port: server.port,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  c.on('error', () => undefined);
  try {
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until every node reports `cluster_state:ok`. */
function allOk(servers: ServerProcess[]): Promise<void> {
  return waitUntil('the Redis Cluster to reach cluster_state:ok', async () =>
    (await Promise.all(servers.map((s) => clusterStateOk(s.port)))).every(Boolean),
  );
}

/** Waits until every replica's link to its master is up. */
function replicasInSync(servers: ServerProcess[]): Promise<void> {
  return waitUntil('the cluster replicas to sync', async () => {
    for (const server of servers) {
      const info = await onNode(server, (c) => c.info('replication'));
      if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
    }
    return true;
  });
}

async function clusterStateOk(port: number): Promise<boolean> {
  const c = new Redis({ host: HOST, port, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  try {
    const info = (await c.call('CLUSTER', 'INFO')) as string;
    return /cluster_state:ok/.test(info);
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** The port of the master serving `key`'s slot, as `node` sees the cluster. */
async function masterPortOf(node: Redis, key: string): Promise<number> {
  const slot = (await node.call('CLUSTER', 'KEYSLOT', key)) as number;
  const slots = (await node.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
  if (!range) throw new Error(`no master serves slot ${slot}`);
  return range[2][1];
}

/**
 * A private Redis Cluster of three masters on free ports, without replicas, or with `replicas`
 * per master (for failover tests; `cluster-node-timeout` is then 1000 ms).
 */
export async function startRedisCluster(
  options: { replicas?: number } = {},
): Promise<RedisClusterHandle> {
  const replicas = options.replicas ?? 0;
  if (!hasBinary('redis-server') || !hasBinary('redis-cli')) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'nest-session-cluster-'));
  const servers: ServerProcess[] = [];
  const tracker = clientTracker();
  const stopAll = async () => {
    await tracker.closeAll();
    for (const s of servers) await s.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const port = await freePort();
      const server = new ServerProcess(port, dir, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        replicas > 0 ? '1000' : '2000',
      ]);
      servers.push(server);
      await server.start();
    }
    const addresses = servers.map((s) => `${HOST}:${s.port}`);
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...addresses,
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) {
      throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    }
    await allOk(servers);
    if (replicas > 0) await replicasInSync(servers);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const nodes = servers.map((s) => ({ host: HOST, port: s.port }));
  return {
    nodes,
    async killMasterOf(key: string) {
      if (replicas === 0) throw new Error('killMasterOf needs a cluster with replicas');
      const from = await onNode(servers[0] as ServerProcess, (c) => masterPortOf(c, key));
      const victim = servers.find((s) => s.port === from) as ServerProcess;
      const alive = servers.filter((s) => s !== victim);
      await victim.kill();
      let to = from;
      await waitUntil('a replica to take over the killed master', async () => {
        to = await onNode(alive[0] as ServerProcess, (c) => masterPortOf(c, key));
        return to !== from;
      });
      await allOk(alive);
      // Back with its cluster config: it rejoins as a replica of the promoted node.
      await victim.start();
      await allOk(servers);
      await replicasInSync(servers);
      return { from, to };
    },
    prefix: uniquePrefix(),
    cluster: (options: ClusterOptions = {}) =>
      tracker.track(
        new Cluster(nodes, {
          ...options,
          redisOptions: { disconnectTimeout: 100, ...options.redisOptions },
        }),
      ),
    nodeClient: (index: number) => {
      const node = nodes[index];
      if (!node) throw new Error(`no cluster node ${index}`);
      return tracker.track(new Redis({ ...node, disconnectTimeout: 100 }));
    },
    stop: stopAll,
    killNow() {
      for (const s of servers) s.killNow();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once an ioredis client (or cluster) is ready. */
export function ready(client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
}

/**
 * Calls per command from `INFO commandstats` (e.g. `{ get: 3, set: 1 }`), summed over the given
 * nodes. Compare two snapshots with {@link commandDelta}.
 */
export async function commandStats(clients: Redis[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of clients) {
    const info = await c.info('commandstats');
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const name = m[1] as string;
      out[name] = (out[name] ?? 0) + Number(m[2]);
    }
  }
  return out;
}

/** The commands run between two {@link commandStats} snapshots (minus `ignore`). */
export function commandDelta(
  before: Record<string, number>,
  after: Record<string, number>,
  ignore: string[] = ['info'],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0);
    if (delta > 0 && !ignore.includes(name)) out[name] = delta;
  }
  return out;
}
