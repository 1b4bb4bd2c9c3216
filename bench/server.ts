/**
 * One benchmark server, started by the runner as a child process:
 * `node server.js <variant> [redis port | cluster ports comma-separated]`.
 *
 * Listens on 127.0.0.1 on a free port, tells the runner the port over IPC, and answers `stats`
 * messages with its CPU time and memory. Routes (the same in every variant):
 * - `GET /s1` ignores the session;
 * - `GET /s2` reads the session;
 * - `GET /s3` changes the session;
 * - `GET /s4` creates a session (also used to make the cookies of S2/S3).
 *
 * nest-session is imported from `lib/` (compiled together with the bench by bench/tsconfig.json).
 * express-session, connect-redis, nestjs-session and @fastify/session are loaded with
 * `createRequire` so that their global type augmentations (Express's request, FastifyRequest's
 * `session`) stay out of the project's type check.
 *
 * The Fastify variants are Nest on `FastifyAdapter`; @fastify/session is registered as the Nest
 * docs register Fastify plugins: `app.register(@fastify/cookie)`, then `app.register(
 * @fastify/session, options)` before `listen`.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Req, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import express from 'express';
import { Cluster, Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector';
import { createRequire } from 'node:module';
import { SessionModule } from '../lib';
import { RedisStore } from '../lib/stores/redis/redis-store';
import nestSessionExpress = require('../lib/express');
import {
  ENCRYPTION_KEY,
  MAX_AGE,
  SECRET,
  sessionPayload,
  variant,
  type ChildMessage,
} from './variants';

const load = createRequire(__filename);

type Handler = (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
type SessionFactory = ((options: Record<string, unknown>) => Handler) & {
  MemoryStore: new () => unknown;
};
type ConnectRedisModule = { RedisStore: new (options: { client: unknown }) => unknown };
type FastifyPlugin = Parameters<NestFastifyApplication['register']>[0];
type NestjsSessionModule = {
  SessionModule: { forRoot(options: { session: Record<string, unknown> }): DynamicModule };
};

interface BenchSession {
  user?: { id: string; name: string; roles: string[] };
  hits?: number;
}
interface BenchRequest {
  session?: BenchSession | null;
}

/** Route handlers: identical in every variant (express handlers mirror them). */
const handlers = {
  s1: () => ({ ok: true }),
  s2: (req: BenchRequest) => ({ user: req.session?.user?.name ?? null }),
  s3: (req: BenchRequest) => {
    const session = req.session;
    if (!session) return { hits: 0 };
    session.hits = (session.hits ?? 0) + 1;
    return { hits: session.hits };
  },
  s4: (req: BenchRequest) => {
    const session = req.session;
    if (session) Object.assign(session, sessionPayload());
    return { ok: true };
  },
};

@Controller()
class BenchController {
  @Get('s1')
  s1() {
    return handlers.s1();
  }

  @Get('s2')
  s2(@Req() req: BenchRequest) {
    return handlers.s2(req);
  }

  @Get('s3')
  s3(@Req() req: BenchRequest) {
    return handlers.s3(req);
  }

  @Get('s4')
  s4(@Req() req: BenchRequest) {
    return handlers.s4(req);
  }
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

/**
 * The Redis commands the server's client sent, by name: what a request costs in round trips.
 * (`INFO commandstats` on the server also counts the commands a script runs inside.)
 */
const sentCommands: Record<string, number> = {};

function redisClient(ports: number[], cluster: boolean): Redis | Cluster {
  const client = cluster
    ? new Cluster(
        ports.map((port) => ({ host: '127.0.0.1', port })),
        { enableReadyCheck: true },
      )
    : new Redis({ host: '127.0.0.1', port: ports[0] ?? 6379, enableAutoPipelining: false });
  const send = client.sendCommand.bind(client) as (command: { name: string }) => unknown;
  (client as { sendCommand: unknown }).sendCommand = (command: { name: string }) => {
    sentCommands[command.name] = (sentCommands[command.name] ?? 0) + 1;
    return send(command);
  };
  return client;
}

/**
 * @fastify/session's options matching express-session's: no uninitialized sessions, no rolling
 * (its default is `true`), the same lifetime, plain HTTP (its cookies are `Secure` by default).
 */
function fastifySessionOptions(store: unknown): Record<string, unknown> {
  return {
    secret: SECRET,
    saveUninitialized: false,
    rolling: false,
    cookie: { maxAge: MAX_AGE, secure: false },
    ...(store ? { store } : {}),
  };
}

/** express-session's options (the same for app.use, nestjs-session and the express drop-in). */
function expressSessionOptions(store: unknown): Record<string, unknown> {
  return {
    secret: SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: MAX_AGE },
    ...(store ? { store } : {}),
  };
}

async function waitReady(client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
}

async function main(): Promise<void> {
  const info = variant(process.argv[2] ?? '');
  const ports = (process.argv[3] ?? '')
    .split(',')
    .filter(Boolean)
    .map((p) => Number(p));
  const client =
    info.store === 'redis' || info.store === 'cluster'
      ? redisClient(ports, info.store === 'cluster')
      : undefined;
  if (client) await waitReady(client);

  let server: Server;
  if (info.framework === 'express') {
    const app = express();
    if (info.engine === 'express-session') {
      const session = load('express-session') as SessionFactory;
      app.use(session(expressSessionOptions(undefined)) as never);
    } else if (info.engine === 'nest-session') {
      app.use(nestSessionExpress(expressSessionOptions(undefined)) as never);
    }
    app.get('/s1', (_req, res) => {
      res.json(handlers.s1());
    });
    app.get('/s2', (req, res) => {
      res.json(handlers.s2(req as BenchRequest));
    });
    app.get('/s3', (req, res) => {
      res.json(handlers.s3(req as BenchRequest));
    });
    app.get('/s4', (req, res) => {
      res.json(handlers.s4(req as BenchRequest));
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
  } else {
    const imports: (DynamicModule | Type<unknown>)[] = [];
    let appUse: Handler | undefined;
    const connectRedisStore = (): unknown => {
      const { RedisStore: ConnectRedisStore } = load('connect-redis') as ConnectRedisModule;
      return new ConnectRedisStore({ client });
    };
    if (info.engine === 'express-session') {
      const session = load('express-session') as SessionFactory;
      appUse = session(
        expressSessionOptions(info.store === 'memory' ? undefined : connectRedisStore()),
      );
    } else if (info.engine === 'nestjs-session') {
      const { SessionModule: NestjsSessionModule } = load('nestjs-session') as NestjsSessionModule;
      imports.push(
        NestjsSessionModule.forRoot({
          session: expressSessionOptions(info.store === 'memory' ? undefined : connectRedisStore()),
        }),
      );
    } else if (info.engine === 'nest-session') {
      imports.push(
        SessionModule.forRoot({
          secret: SECRET,
          cookie: { maxAge: MAX_AGE },
          ...(client ? { store: new RedisStore({ client }) } : {}),
          ...(info.encrypted ? { encryption: { keys: [ENCRYPTION_KEY] } } : {}),
        }),
      );
    }
    @Module({ imports, controllers: [BenchController] })
    class AppModule {}
    const logger: ('error' | 'warn')[] = ['error', 'warn'];
    if (info.framework === 'fastify') {
      const app = await NestFactory.create<NestFastifyApplication>(
        AppModule,
        new FastifyAdapter(),
        { logger },
      );
      if (info.engine === 'fastify-session') {
        const plugin = (name: string) => {
          const loaded = load(name) as FastifyPlugin | { default: FastifyPlugin };
          return 'default' in loaded ? loaded.default : loaded;
        };
        await app.register(plugin('@fastify/cookie'));
        await app.register(
          plugin('@fastify/session'),
          fastifySessionOptions(info.store === 'memory' ? undefined : connectRedisStore()),
        );
      }
      await app.listen(0, '127.0.0.1');
      server = app.getHttpServer() as Server;
    } else {
      const app = await NestFactory.create<NestExpressApplication>(
        AppModule,
        new ExpressAdapter(),
        { logger },
      );
      if (appUse) app.use(appUse);
      await app.listen(0, '127.0.0.1');
      server = app.getHttpServer() as Server;
    }
  }

  let requests = 0;
  server.on('request', () => requests++);
  requestCount = () => requests;
  process.on('message', (message: { type?: string }) => {
    if (message?.type !== 'stats') return;
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    send({
      type: 'stats',
      cpuMicros: cpu.user + cpu.system,
      rss: memory.rss,
      maxRss: process.resourceUsage().maxRSS * 1024,
      heapUsed: memory.heapUsed,
      requests,
      redisCommands: { ...sentCommands },
    });
  });
  const heapProfile = process.env.BENCH_HEAP_PROFILE;
  const stopHeapProfile = heapProfile ? await startAllocationSampling(heapProfile) : undefined;
  process.on('disconnect', () => {
    if (stopHeapProfile) stopHeapProfile(() => process.exit(0));
    else process.exit(0);
  });
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

/**
 * Allocation sampling of everything the server allocates from now on, garbage included (unlike
 * `node --heap-prof`, which keeps only what is still alive when it stops): V8's sampling heap
 * profiler with the objects later collected by scavenges and mark-compacts kept in the samples.
 * Written to `file` (a `.heapprofile`, DevTools' format) when the server stops.
 */
async function startAllocationSampling(file: string): Promise<(done: () => void) => void> {
  const session = new InspectorSession();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))),
    );
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return (done) => {
    void post('HeapProfiler.stopSampling')
      .then((result) => {
        writeFileSync(file, JSON.stringify((result as { profile: unknown }).profile));
        writeFileSync(`${file}.json`, JSON.stringify({ requests: requestCount() }));
      })
      .finally(done);
  };
}

let requestCount = () => 0;

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
