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

const HOST = '127.0.0.1';

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
}

/** A private three-master Redis Cluster. */
export interface RedisClusterHandle {
  nodes: { host: string; port: number }[];
  /** A key prefix unique to this handle. */
  prefix: string;
  /** A new ioredis Cluster client (disconnected by `stop()`). */
  cluster(options?: ClusterOptions): Cluster;
  /** A new ioredis client to one node (disconnected by `stop()`). */
  nodeClient(index: number): Redis;
  /** Disconnects the clients and kills the three servers. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'Redis is required by these tests: install redis-server and redis-tools ' +
  '(Debian/Ubuntu: `apt-get install -y redis-server redis-tools`; macOS: `brew install redis`) ' +
  'so that `redis-server` and `redis-cli` are on PATH, or set REDIS_URL=redis://host:port to a ' +
  'Redis you own (the tests only touch keys under a unique prefix there).';

function uniquePrefix(): string {
  return `nest-session-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

function hasBinary(name: string): boolean {
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
async function freePort(): Promise<number> {
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

class ServerProcess {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: string[] = [],
  ) {}

  async start(): Promise<void> {
    const args = [
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
    ];
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

function clientTracker() {
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
    async stop() {
      await tracker.closeAll();
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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

/** A private Redis Cluster of three masters (no replicas) on free ports. */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
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
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const server = new ServerProcess(port, dir, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
      ]);
      servers.push(server);
      await server.start();
    }
    const addresses = servers.map((s) => `${HOST}:${s.port}`);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) {
      throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    }
    const until = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(servers.map((s) => clusterStateOk(s.port)));
      if (states.every(Boolean)) break;
      if (Date.now() > until) throw new Error('the Redis Cluster did not reach cluster_state:ok');
      await sleep(100);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const nodes = servers.map((s) => ({ host: HOST, port: s.port }));
  return {
    nodes,
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
