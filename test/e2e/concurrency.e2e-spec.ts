/**
 * No lost updates (`concurrency: 'merge'`): 200 overlapping requests on one session, each
 * setting its own key, on MemoryStore, Redis and a Redis Cluster. The default mode (whole
 * session written back, as express-session) is measured too, for the README's figures.
 */
import 'reflect-metadata';
import { Controller, Get, INestApplication, Module, Param, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  HTTP_ADAPTERS,
  type HttpAdapterKind,
  createAppOn,
  initApp,
} from '../support/http-adapters';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  MemoryStore,
  RedisStore,
  type RequestSession,
  Session,
  SessionModule,
  type SessionStore,
} from '../../lib';
import { ready, startRedis, startRedisCluster } from '../support/redis-server';

const secret = 'concurrency-test-secret-long-enough-123';
const REQUESTS = 200;

@Controller()
class AppController {
  @Post('start') start(@Session() s: RequestSession) {
    (s as unknown as Record<string, unknown>).started = true;
    (s as unknown as Record<string, unknown>).removeMe = 'x';
    return { ok: true };
  }
  @Post('set/:key') async set(@Session() s: RequestSession, @Param('key') key: string) {
    await sleep(Math.floor(Math.random() * 10)); // overlap the requests
    (s as unknown as Record<string, unknown>)[key] = true;
    if (key === 'k0') delete (s as unknown as Record<string, unknown>).removeMe;
    return { ok: true };
  }
  @Get('keys') keys(@Session() s: RequestSession) {
    return Object.keys(s).filter((k) => k !== 'cookie');
  }
}

type Kind = 'memory' | 'redis' | 'cluster';
const figures: Record<string, number> = {};

async function boot(
  adapter: HttpAdapterKind,
  store: SessionStore,
  concurrency: 'merge' | 'overwrite',
) {
  @Module({
    imports: [SessionModule.forRoot({ secret, store, concurrency })],
    controllers: [AppController],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  return initApp(createAppOn(moduleRef, adapter));
}

async function keysAfterConcurrentWrites(app: INestApplication): Promise<string[]> {
  const server = app.getHttpServer();
  const start = await request(server).post('/start').expect(201);
  const cookie = String(start.headers['set-cookie']).split(';')[0] as string;
  const results = await Promise.all(
    Array.from({ length: REQUESTS }, (_, i) =>
      request(server).post(`/set/k${i}`).set('Cookie', cookie),
    ),
  );
  expect(results.every((r) => r.status === 201)).toBe(true);
  const all = (await request(server).get('/keys').set('Cookie', cookie).expect(200))
    .body as string[];
  return all;
}

describe.each<Kind>(['memory', 'redis', 'cluster'])('concurrent writes on %s', (kind) => {
  let stop: () => Promise<void> = async () => undefined;
  let makeStore: () => SessionStore;

  beforeAll(async () => {
    if (kind === 'memory') {
      makeStore = () => new MemoryStore({ pruneInterval: 0 });
    } else if (kind === 'redis') {
      const redis = await startRedis();
      const client = redis.client();
      makeStore = () => new RedisStore({ client, prefix: `${redis.prefix}${Math.random()}:` });
      stop = () => redis.stop();
    } else {
      const redis = await startRedisCluster();
      const cluster = redis.cluster();
      await ready(cluster);
      makeStore = () =>
        new RedisStore({ client: cluster, prefix: `${redis.prefix}${Math.random()}:` });
      stop = () => redis.stop();
    }
  }, 60_000);
  afterAll(() => stop());

  // The store infrastructure (a Redis, a Cluster) is shared by both adapters' applications.
  describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
    it(`merge: all ${REQUESTS} keys survive, and a deleted key stays deleted`, async () => {
      const store = makeStore();
      const app = await boot(adapter, store, 'merge');
      try {
        const all = await keysAfterConcurrentWrites(app);
        const keys = all.filter((k) => /^k\d+$/.test(k));
        figures[`${kind} ${adapter} merge`] = keys.length;
        expect(keys).toHaveLength(REQUESTS);
        expect(all).toContain('started');
        expect(all).not.toContain('removeMe');
      } finally {
        await app.close();
        await store.close?.();
      }
    });

    it('overwrite (express-session behaviour) loses most of them', async () => {
      const store = makeStore();
      const app = await boot(adapter, store, 'overwrite');
      try {
        const keys = (await keysAfterConcurrentWrites(app)).filter((k) => /^k\d+$/.test(k));
        figures[`${kind} ${adapter} overwrite`] = keys.length;
        expect(keys.length).toBeLessThan(REQUESTS);
      } finally {
        await app.close();
        await store.close?.();
      }
    });
  });
});

afterAll(() => {
  console.log(`keys kept out of ${REQUESTS} concurrent writes: ${JSON.stringify(figures)}`);
});
