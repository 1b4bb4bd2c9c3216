/**
 * Shared helpers of the adversarial suite (test/e2e/security-*.e2e-spec.ts): a real Nest app
 * listening on loopback (the sample app, or a small fixture module) on a MemoryStore or on a
 * private Redis, direct access to what is stored, a store-read counter, cookie signing with the
 * app's own secret, and a raw-socket HTTP client for bytes that Node's HTTP client refuses to send.
 */
import 'reflect-metadata';
import type { INestApplication, ModuleMetadata, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import {
  MemoryStore,
  RedisStore,
  SessionModule,
  type SessionModuleOptions,
  SessionStore,
} from '../../lib';
import { AppModule } from '../../sample/app.module';
import { AppConfig } from '../../sample/config/app-config';
import { type AdapterSettings, type HttpAdapterKind, createAppOn, initApp } from './http-adapters';
import { type RedisHandle, commandDelta, commandStats, startRedis } from './redis-server';

export type StoreKind = 'memory' | 'redis';
export const STORE_KINDS: readonly StoreKind[] = ['memory', 'redis'];

/** A fresh random secret (64 hex characters). */
export function randomSecret(): string {
  return randomBytes(32).toString('hex');
}

/** `s:` + value + `.` + base64(HMAC-SHA256) without padding: the express-session cookie value. */
export function signCookieValue(id: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return `s:${id}.${mac}`;
}

/** `name=<url-encoded signed value>`, what a browser would send back. */
export function signedPair(name: string, id: string, secret: string): string {
  return `${name}=${encodeURIComponent(signCookieValue(id, secret))}`;
}

/** A string of the default id shape (32 characters of `[A-Za-z0-9_-]`) that nobody issued. */
export function wellFormedId(): string {
  return randomBytes(24).toString('base64url');
}

/** A running app plus what the tests need to look behind it. */
export interface AppHarness {
  kind: StoreKind;
  /** The HTTP adapter the app runs on. */
  adapter: HttpAdapterKind;
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  secret: string;
  /** The cookie name the app uses. */
  name: string;
  store: SessionStore;
  /** Private Redis (redis kind only). */
  redis?: RedisHandle;
  /** A direct client to that Redis (redis kind only). */
  raw?: Redis;
  /** Key prefix of the sessions in Redis. */
  prefix: string;
  /** Whether a session id has a record in the store (read straight from Redis for redis). */
  stored(id: string): Promise<boolean>;
  /** The stored record of an id, parsed (undefined when none). */
  record(id: string): Promise<Record<string, unknown> | undefined>;
  /** Number of session records in the store. */
  count(): Promise<number>;
  /** Stores a record (any JSON value) as the session `id`. */
  plant(id: string, value: unknown): Promise<void>;
  /** Counts store reads (`get` calls seen by the store object, and Redis GETs) during `run`. */
  reads<T>(run: () => Promise<T>): Promise<{ result: T; storeGets: number; redisGets: number }>;
  close(): Promise<void>;
}

function portOf(app: INestApplication): number {
  return (app.getHttpServer().address() as AddressInfo).port;
}

/** A MemoryStore or a RedisStore (on a private redis-server) for a harness. */
async function makeStore(kind: StoreKind): Promise<{
  store: SessionStore;
  redis?: RedisHandle;
  raw?: Redis;
  prefix: string;
}> {
  if (kind === 'memory') return { store: new MemoryStore({ pruneInterval: 0 }), prefix: '' };
  const redis = await startRedis({ requirePrivate: true });
  const client = redis.client({ maxRetriesPerRequest: 2 });
  const raw = redis.client();
  const store = new RedisStore({ client, prefix: redis.prefix });
  store.on('warning', () => undefined);
  return { store, redis, raw, prefix: redis.prefix };
}

function harness(
  kind: StoreKind,
  adapter: HttpAdapterKind,
  app: INestApplication,
  secret: string,
  name: string,
  store: SessionStore,
  prefix: string,
  redis: RedisHandle | undefined,
  raw: Redis | undefined,
  extraClose: () => Promise<void> = async () => undefined,
): AppHarness {
  const port = portOf(app);
  // Unaffected by the read counter of `reads()`.
  const directGet = store.get.bind(store) as (id: string) => Promise<unknown>;
  return {
    kind,
    adapter,
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    secret,
    name,
    store,
    redis,
    raw,
    prefix,
    async stored(id) {
      if (raw) return (await raw.exists(prefix + id)) === 1;
      return (await directGet(id)) != null;
    },
    async record(id) {
      if (raw) {
        const text = await raw.get(prefix + id);
        return text === null ? undefined : (JSON.parse(text) as Record<string, unknown>);
      }
      return ((await directGet(id)) ?? undefined) as Record<string, unknown> | undefined;
    },
    async count() {
      if (raw) return (await raw.keys(`${prefix}*`)).length;
      return (await store.length?.()) ?? 0;
    },
    async plant(id, value) {
      if (raw) {
        await raw.set(prefix + id, typeof value === 'string' ? value : JSON.stringify(value));
        return;
      }
      await store.set(id, value as never);
    },
    async reads(run) {
      let storeGets = 0;
      const target = store as unknown as { get: (...args: unknown[]) => unknown };
      const original = target.get;
      target.get = function counted(this: unknown, ...args: unknown[]) {
        storeGets++;
        return original.apply(this, args);
      };
      const before = raw ? await commandStats([raw]) : {};
      try {
        const result = await run();
        const after = raw ? await commandStats([raw]) : {};
        const redisGets = commandDelta(before, after).get ?? 0;
        return { result, storeGets, redisGets };
      } finally {
        target.get = original;
      }
    },
    async close() {
      await app.close();
      await extraClose();
      if (kind === 'memory') await store.close?.();
      await redis?.stop();
    },
  };
}

/**
 * The sample app (sample/) with its configuration overridden as sample.e2e-spec.ts does: a fresh
 * secret and, for redis, a private redis-server. Listens on 127.0.0.1.
 */
export async function bootSample(
  kind: StoreKind,
  adapter: HttpAdapterKind = 'express',
): Promise<AppHarness> {
  const secret = randomSecret();
  const env: NodeJS.ProcessEnv = { SESSION_SECRET: secret };
  let redis: RedisHandle | undefined;
  if (kind === 'redis') {
    redis = await startRedis({ requirePrivate: true });
    env.REDIS_URL = redis.url;
    env.REDIS_PREFIX = redis.prefix;
  }
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(AppConfig)
    .useValue(AppConfig.fromEnv(env))
    .compile();
  const app = await initApp(createAppOn(moduleRef, adapter));
  await app.listen(0, '127.0.0.1');
  const store = app.get(SessionStore);
  store.on('warning', () => undefined);
  const raw = redis?.client();
  return harness(kind, adapter, app, secret, 'sample.sid', store, redis?.prefix ?? '', redis, raw);
}

/**
 * A fixture app: `SessionModule.forRoot(options)` (plus a store of `kind`) and `controllers`, on
 * `adapter` (with its `settings`: Fastify's `trustProxy`, ...).
 */
export async function bootFixture(
  kind: StoreKind,
  controllers: Type<unknown>[],
  options: Partial<SessionModuleOptions> = {},
  extra: ModuleMetadata = {},
  adapter: HttpAdapterKind = 'express',
  settings: AdapterSettings = {},
): Promise<AppHarness> {
  const secret = randomSecret();
  const { store, redis, raw, prefix } = await makeStore(kind);
  @Module({
    imports: [
      SessionModule.forRoot({ secret, store, storeTimeout: 3000, ...options }),
      ...(extra.imports ?? []),
    ],
    controllers,
    providers: extra.providers ?? [],
  })
  class FixtureModule {}
  const moduleRef = await Test.createTestingModule({ imports: [FixtureModule] }).compile();
  const app = await initApp(createAppOn(moduleRef, adapter, settings));
  await app.listen(0, '127.0.0.1');
  const secrets = options.secret;
  const signing = Array.isArray(secrets)
    ? String(secrets[0])
    : typeof secrets === 'string'
      ? secrets
      : secret;
  return harness(kind, adapter, app, signing, options.name ?? 'sid', store, prefix, redis, raw);
}

/** Boots `SessionModule.forRoot(options)` and returns the startup error (or undefined). */
export async function bootError(options: SessionModuleOptions): Promise<unknown> {
  @Module({ imports: [SessionModule.forRoot(options)] })
  class BootModule {}
  let app: INestApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [BootModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await app?.close().catch(() => undefined);
  }
}

/** A parsed raw HTTP response. */
export interface RawResponse {
  status: number;
  headers: string[];
  body: string;
  /** The `Set-Cookie` header values. */
  setCookies: string[];
}

/**
 * Sends `head` (the request line and headers, `\r\n`-separated, without the final blank line)
 * as raw bytes, and reads the whole answer (`Connection: close`). For bytes Node's client
 * refuses to put into a header (control characters, raw non-ASCII).
 */
export function rawRequest(
  port: number,
  head: Buffer | string,
  timeoutMs = 5000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const [headerText = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headers] = headerText.split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
      resolve({
        status,
        headers,
        body: rest.join('\r\n\r\n'),
        setCookies: headers
          .filter((h) => /^set-cookie:/i.test(h))
          .map((h) => h.slice(h.indexOf(':') + 1).trim()),
      });
    });
    socket.on('connect', () => {
      const end = Buffer.from('\r\nConnection: close\r\n\r\n', 'latin1');
      socket.write(
        Buffer.concat([Buffer.isBuffer(head) ? head : Buffer.from(head, 'latin1'), end]),
      );
    });
  });
}
