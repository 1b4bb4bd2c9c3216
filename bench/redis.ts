/**
 * Private Redis servers for the benchmark: a standalone `redis-server` and a three-master
 * Cluster, each on free loopback ports, without persistence, in a temporary folder. Never the
 * shared server on 6379; everything started here is stopped by `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A free TCP port on 127.0.0.1 (and, for a Cluster node, its bus port + 10000 too). */
export async function freePort(withBus = false): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const p = (server.address() as { port: number }).port;
        server.close(() => resolve(p));
      });
    });
    if (!withBus) return port;
    if (port + 10000 > 65535) continue;
    const busFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port + 10000, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (busFree) return port;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RedisServer {
  private process: ChildProcess | undefined;
  readonly dir: string;

  constructor(
    readonly port: number,
    private readonly cluster: boolean,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'nest-session-bench-redis-'));
  }

  async start(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--protected-mode',
      'no',
      '--loglevel',
      'warning',
    ];
    if (this.cluster) {
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(this.dir, 'nodes.conf'));
    }
    this.process = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis({
        host: '127.0.0.1',
        port: this.port,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return;
      } catch {
        client.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await sleep(50);
      }
    }
  }

  stop(): void {
    if (this.process && this.process.exitCode === null) this.process.kill('SIGKILL');
    this.process = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Three masters joined with `redis-cli --cluster create` (no replicas). */
export class RedisCluster {
  readonly nodes: RedisServer[] = [];

  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const node = new RedisServer(await freePort(true), true);
      this.nodes.push(node);
      await node.start();
    }
    const result = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...this.nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (result.status !== 0) {
      throw new Error(`redis-cli --cluster create failed: ${result.stdout}${result.stderr}`);
    }
    // Wait until every node reports the cluster as ok.
    const deadline = Date.now() + 20_000;
    for (const node of this.nodes) {
      const client = new Redis({ host: '127.0.0.1', port: node.port });
      try {
        for (;;) {
          const info = await client.cluster('INFO');
          if (/cluster_state:ok/.test(String(info))) break;
          if (Date.now() > deadline) throw new Error('Redis Cluster did not become ok');
          await sleep(100);
        }
      } finally {
        client.disconnect();
      }
    }
  }

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  stop(): void {
    for (const node of this.nodes) node.stop();
  }
}
