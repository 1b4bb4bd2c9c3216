/**
 * "Your devices" and "sign out everywhere": the per-user index kept by the stores (userKey) and
 * SessionService, on MemoryStore, RedisStore on a standalone Redis, and RedisStore on a Cluster;
 * each also with encryption at rest (the index then names users by an HMAC, never in clear).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
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
import type { Redis } from 'ioredis';
import { ready, startRedis, startRedisCluster } from '../support/redis-server';

const secret = 'user-sessions-test-secret-long-enough-1';

/** Every key under `prefix` on these nodes, with its value (strings) or members (sets). */
async function dump(nodes: Redis[], prefix: string): Promise<string> {
  const out: string[] = [];
  for (const node of nodes) {
    for (const key of await node.keys(`${prefix}*`)) {
      const type = await node.type(key);
      out.push(
        key,
        type === 'set' ? (await node.smembers(key)).join(' ') : String(await node.get(key)),
      );
    }
  }
  return out.join(' ');
}

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

const ENCRYPTION = { keys: [randomBytes(32)] };

describe.each<[Kind, boolean]>([
  ['memory', false],
  ['redis', false],
  ['cluster', false],
  ['memory', true],
  ['redis', true],
  ['cluster', true],
])('user sessions on %s (encrypted: %s)', (kind, encrypted) => {
  let app: INestApplication;
  let stop: () => Promise<void> = async () => undefined;
  let store: SessionStore;
  /** Every key name and value the store holds, as one string. */
  let everything: () => Promise<string> = async () => '';

  beforeAll(async () => {
    if (kind === 'memory') {
      store = new MemoryStore({ pruneInterval: 0 });
    } else if (kind === 'redis') {
      const redis = await startRedis();
      const client = redis.client();
      store = new RedisStore({ client, prefix: `${redis.prefix}sess:` });
      stop = () => redis.stop();
      everything = () => dump([redis.client()], redis.prefix);
    } else {
      const redis = await startRedisCluster();
      const cluster = redis.cluster();
      await ready(cluster);
      store = new RedisStore({ client: cluster, prefix: `${redis.prefix}sess:` });
      stop = () => redis.stop();
      everything = () =>
        dump(
          [0, 1, 2].map((i) => redis.nodeClient(i)),
          redis.prefix,
        );
    }
    if (kind === 'memory') {
      const memory = store as MemoryStore;
      const users = (memory as unknown as { users: Map<string, unknown> }).users;
      everything = async () => [...users.keys(), ...Object.values(memory.sessions)].join(' ');
    }
    const encryption = encrypted ? ENCRYPTION : undefined;
    @Module({
      imports: [SessionModule.forRoot({ secret, store, userKey: 'userId', encryption })],
      controllers: [AppController],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await store.close?.();
    await stop();
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

  it('holds user ids in clear only without encryption', async () => {
    const server = app.getHttpServer();
    await request.agent(server).post('/login').send({ user: 'dave-the-user' }).expect(201);
    const stored = await everything();
    if (encrypted) expect(stored).not.toMatch(/dave/);
    else expect(stored).toMatch(/dave-the-user/);
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
