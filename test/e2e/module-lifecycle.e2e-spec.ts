import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { MemoryStore, RedisStore, SessionModule, SessionStore } from '../../lib';
import { type RedisHandle, startRedis } from '../support/redis-server';
import { bootApp } from './fixtures/app';
import { cookiePair, sessionIdOf } from './fixtures/cookies';
import { ProbeController } from './fixtures/probe.controller';
import { testSecret } from './fixtures/secret';
import { HTTP_ADAPTERS } from '../support/http-adapters';

/** Sockets, servers and ref'd timers alive now (Node does not list unref'd timers). */
function liveHandles(): Record<string, number> {
  const out: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, Timeout: 0 };
  for (const r of process.getActiveResourcesInfo()) if (r in out) out[r]! += 1;
  return out;
}

/** Waits (up to 1 s) until no more sockets, servers or timers are alive than in `baseline`. */
async function backTo(baseline: Record<string, number>): Promise<Record<string, number>> {
  const within = (now: Record<string, number>) =>
    Object.keys(now).every((k) => (now[k] ?? 0) <= (baseline[k] ?? 0));
  for (let i = 0; i < 50 && !within(liveHandles()); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const now = liveHandles();
  return within(now) ? baseline : now;
}

function sweepTimerOf(store: MemoryStore): unknown {
  return (store as unknown as { timer?: unknown }).timer;
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe('app.close()', () => {
    afterEach(() => jest.restoreAllMocks());

    it('releases the MemoryStore the module created (its sweep timer)', async () => {
      const close = jest.spyOn(MemoryStore.prototype, 'close');
      const app = await bootApp(
        {
          imports: [SessionModule.forRoot({ secret: testSecret() })],
          controllers: [ProbeController],
        },
        adapter,
      );
      const store = app.get(SessionStore) as MemoryStore;
      expect(sweepTimerOf(store)).toBeDefined();
      await request(app.getHttpServer()).post('/login').expect(201);
      await app.close();
      expect(close).toHaveBeenCalledTimes(1);
      expect(sweepTimerOf(store)).toBeUndefined();
    });

    it('never closes a store that was passed in', async () => {
      const store = new MemoryStore();
      const close = jest.spyOn(store, 'close');
      const app = await bootApp(
        {
          imports: [SessionModule.forRoot({ secret: testSecret(), store })],
          controllers: [ProbeController],
        },
        adapter,
      );
      const res = await request(app.getHttpServer()).post('/login').send({ userId: 'kept' });
      await app.close();
      expect(close).not.toHaveBeenCalled();
      expect(sweepTimerOf(store)).toBeDefined();
      expect(await store.get(sessionIdOf(cookiePair(res, 'sid')))).toMatchObject({
        userId: 'kept',
      });
      store.close();
    });

    describe('with a RedisStore on the app’s own ioredis client', () => {
      let redis: RedisHandle;
      beforeAll(async () => {
        redis = await startRedis();
      });
      afterAll(() => redis.stop());

      it('leaves the client connected (it is the app’s, not the module’s)', async () => {
        const client = redis.client();
        const store = new RedisStore({ client, prefix: redis.prefix });
        const app = await bootApp(
          {
            imports: [SessionModule.forRoot({ secret: testSecret(), store })],
            controllers: [ProbeController],
          },
          adapter,
        );
        const res = await request(app.getHttpServer()).post('/login').send({ userId: 'r' });
        await app.close();
        expect(client.status).toBe('ready');
        expect(await client.ping()).toBe('PONG');
        const id = sessionIdOf(cookiePair(res, 'sid'));
        expect(JSON.parse((await client.get(redis.prefix + id)) ?? '{}')).toMatchObject({
          userId: 'r',
        });
      });
    });

    it('leaves no live handle behind after serving on a real port', async () => {
      const baseline = liveHandles();
      const app: INestApplication = await bootApp(
        {
          imports: [SessionModule.forRoot({ secret: testSecret() })],
          controllers: [ProbeController],
        },
        adapter,
      );
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      const agent = request.agent(`http://127.0.0.1:${port}`);
      await agent.post('/login').expect(201);
      expect((await agent.get('/count')).body).toEqual({ visits: 1 });
      expect(liveHandles().TCPServerWrap).toBe(baseline.TCPServerWrap! + 1);
      await app.close();
      expect(await backTo(baseline)).toEqual(baseline);
    });
  });
});
