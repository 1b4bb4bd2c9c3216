/**
 * "Your devices" and "sign out everywhere": the per-user index kept by the stores (userKey) and
 * SessionService, on MemoryStore, RedisStore on a standalone Redis, and RedisStore on a Cluster.
 */
import 'reflect-metadata';
import { Body, Controller, Get, INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';
import {
  MemoryStore,
  RedisStore,
  type RequestSession,
  Session,
  SessionId,
  SessionModule,
  SessionService,
  type SessionStore,
} from '../../lib';
import { ready, startRedis, startRedisCluster } from '../support/redis-server';

const secret = 'user-sessions-test-secret-long-enough-1';

@Controller()
class AppController {
  constructor(private readonly sessions: SessionService) {}

  @Post('login') async login(@Session() s: RequestSession, @Body() body: { user: string }) {
    await s.regenerate();
    (s.req.session as RequestSession & { userId?: string }).userId = body.user;
    return { ok: true };
  }
  @Get('devices') async devices(
    @Session('userId' as never) userId: string,
    @SessionId() id: string,
  ) {
    const list = await this.sessions.listForUser(userId);
    return list
      .map((s) => ({ id: s.id, current: s.id === id }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  @Post('everywhere') async everywhere(
    @Session('userId' as never) userId: string,
    @SessionId() id: string,
  ) {
    return { revoked: await this.sessions.destroyForUser(userId, { except: id }) };
  }
  @Get('me') me(@Session() s: RequestSession & { userId?: string }) {
    return { user: s.userId ?? null };
  }
}

type Kind = 'memory' | 'redis' | 'cluster';

describe.each<Kind>(['memory', 'redis', 'cluster'])('user sessions on %s', (kind) => {
  let stop: () => Promise<void> = async () => undefined;
  let makeStore: (prefix: string) => SessionStore;

  beforeAll(async () => {
    if (kind === 'memory') {
      makeStore = () => new MemoryStore({ pruneInterval: 0 });
    } else if (kind === 'redis') {
      const redis = await startRedis();
      const client = redis.client();
      makeStore = (prefix) => new RedisStore({ client, prefix: `${redis.prefix}${prefix}:` });
      stop = () => redis.stop();
    } else {
      const redis = await startRedisCluster();
      const cluster = redis.cluster();
      await ready(cluster);
      makeStore = (prefix) =>
        new RedisStore({ client: cluster, prefix: `${redis.prefix}${prefix}:` });
      stop = () => redis.stop();
    }
  }, 60_000);
  afterAll(() => stop());

  // The store infrastructure (a Redis, a Cluster) is shared by both adapters' applications.
  describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
    let app: INestApplication;
    let store: SessionStore;

    beforeAll(async () => {
      store = makeStore(adapter);
      @Module({
        imports: [SessionModule.forRoot({ secret, store, userKey: 'userId' })],
        controllers: [AppController],
      })
      class AppModule {}
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      app = await initApp(createAppOn(moduleRef, adapter));
    });

    afterAll(async () => {
      await app?.close();
      await store.close?.();
    });

    it('lists a user’s sessions and signs out everywhere else', async () => {
      const server = app.getHttpServer();
      const laptop = request.agent(server);
      const phone = request.agent(server);
      const other = request.agent(server);
      await laptop.post('/login').send({ user: 'alice' }).expect(201);
      await phone.post('/login').send({ user: 'alice' }).expect(201);
      await other.post('/login').send({ user: 'bob' }).expect(201);

      const devices = (await laptop.get('/devices').expect(200)).body as { current: boolean }[];
      expect(devices).toHaveLength(2);
      expect(devices.filter((d) => d.current)).toHaveLength(1);

      await laptop.post('/everywhere').expect(201, { revoked: 1 });
      await phone.get('/me').expect(200, { user: null }); // the phone is signed out
      await laptop.get('/me').expect(200, { user: 'alice' }); // the laptop stays
      await other.get('/me').expect(200, { user: 'bob' }); // other users untouched
      expect((await laptop.get('/devices').expect(200)).body).toHaveLength(1);
    });

    it('forgets sessions that were destroyed or regenerated away', async () => {
      const server = app.getHttpServer();
      const a = request.agent(server);
      await a.post('/login').send({ user: 'carol' }).expect(201);
      await a.post('/login').send({ user: 'carol' }).expect(201); // regenerated: old id gone
      const list = await app.get(SessionService).listForUser('carol');
      expect(list).toHaveLength(1);
    });
  });
});
