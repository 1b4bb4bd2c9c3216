/**
 * A Redis for the compatibility suite, as test/support/redis-server.ts does it: `REDIS_URL` when
 * set (keys under a unique prefix, never flushed), else a private `redis-server` on a free port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisHandle {
  client: Redis;
  prefix: string;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'The Redis flows need `redis-server` on PATH (Debian/Ubuntu: `apt-get install -y redis-server`) ' +
  'or REDIS_URL=redis://host:port to a Redis you own (only keys under a unique prefix are touched).';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function ping(client: Redis, until: number): Promise<void> {
  for (;;) {
    try {
      if ((await client.ping()) === 'PONG') return;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(): Promise<RedisHandle> {
  const prefix = `nest-session-compat:${process.pid}:${randomBytes(4).toString('hex')}:`;
  const url = process.env.REDIS_URL;
  if (url) {
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    await ping(client, Date.now() + 5_000);
    return {
      client,
      prefix,
      async stop() {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length > 0) await client.del(...keys);
        } while (cursor !== '0');
        client.disconnect();
      },
    };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nest-session-compat-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child: ChildProcess = spawn('redis-server', [...args, '--dir', dir], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`${INSTALL_HINT} (${err.message})`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) on start`)));
  });
  failed.catch(() => undefined);
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // refused until the server listens
  await Promise.race([ping(client, Date.now() + 10_000), failed]);
  return {
    client,
    prefix,
    async stop() {
      client.disconnect();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
