/**
 * The sample app's `/graphql` (Apollo, on Express and on Fastify), on MemoryStore and Redis: the
 * cart in the session, a passport login that regenerates the session, `me`, and a logout that
 * destroys it; the same session as the REST API.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { SessionStore } from '../../lib';
import { AppModule } from '../../sample/app.module';
import { AppConfig } from '../../sample/config/app-config';
import { SESSION_COOKIE_NAME } from '../../sample/session/session-data';
import { graphql } from '../support/graphql-apps';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';
import { type RedisHandle, startRedis } from '../support/redis-server';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';

describe.each(HTTP_ADAPTERS)('the sample GraphQL API on %s', (adapter) => {
  describe.each(['memory', 'redis'] as const)('with the %s store', (kind) => {
    let app: INestApplication;
    let redis: RedisHandle | undefined;
    let store: SessionStore;

    beforeAll(async () => {
      const env: NodeJS.ProcessEnv = { SESSION_SECRET: randomBytes(32).toString('hex') };
      if (kind === 'redis') {
        redis = await startRedis();
        env.REDIS_URL = redis.url;
        env.REDIS_PREFIX = redis.prefix;
      }
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
        .overrideProvider(AppConfig)
        .useValue(AppConfig.fromEnv(env))
        .compile();
      app = await initApp(createAppOn(moduleRef, adapter));
      store = app.get(SessionStore);
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      await redis?.stop();
    });

    it('cart, login (a new session id), me, logout (record and cookie gone)', async () => {
      const added = await graphql(
        app,
        'mutation { addToCart(productId: "tea", quantity: 2) { total items { name quantity } } }',
      );
      expect(added.data).toEqual({
        addToCart: { total: 900, items: [{ name: 'Mad Hatter tea', quantity: 2 }] },
      });
      const anonymous = cookiePair(added.res, SESSION_COOKIE_NAME);

      // A read: the cart from the session, nothing written back.
      const read = await graphql(app, '{ cart { total } me { username } }', { cookie: anonymous });
      expect(read.data).toEqual({ cart: { total: 900 }, me: null });
      expect(setCookieFor(read.res, SESSION_COOKIE_NAME)).toBeUndefined();
      // The REST API sees the same session.
      const rest = await request(app.getHttpServer()).get('/cart').set('cookie', anonymous);
      expect(rest.body).toMatchObject({ total: 900 });

      const wrong = await graphql(
        app,
        'mutation { login(username: "alice", password: "nope") { username } }',
        { cookie: anonymous },
      );
      expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

      const login = await graphql(
        app,
        'mutation { login(username: "alice", password: "wonderland") { username displayName } }',
        { cookie: anonymous },
      );
      expect(login.data).toEqual({ login: { username: 'alice', displayName: 'Alice Liddell' } });
      const signedIn = cookiePair(login.res, SESSION_COOKIE_NAME);
      const sid = sessionIdOf(signedIn);
      expect(sid).not.toBe(sessionIdOf(anonymous));
      expect(await store.get(sessionIdOf(anonymous))).toBeFalsy();
      expect((await store.get(sid))?.passport).toEqual({ user: 'alice' });

      const me = await graphql(app, '{ me { username roles } }', { cookie: signedIn });
      expect(me.data).toEqual({ me: { username: 'alice', roles: ['admin'] } });

      const out = await graphql(app, 'mutation { logout }', { cookie: signedIn });
      expect(out.data).toEqual({ logout: true });
      expect(setCookieFor(out.res, SESSION_COOKIE_NAME)).toMatch(/Expires=Thu, 01 Jan 1970/);
      expect(await store.get(sid)).toBeFalsy();

      const again = await graphql(app, 'mutation { logout }', { cookie: signedIn });
      expect(again.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const after = await graphql(app, '{ me { username } }', { cookie: signedIn });
      expect(after.data).toEqual({ me: null });
    });
  });
});
