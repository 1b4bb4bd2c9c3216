/**
 * GraphQL subscriptions over graphql-ws (Apollo on Express and on Fastify, the loader in
 * `onConnect`), on MemoryStore and on a real Redis: a subscription resolver sees the session of
 * its connection's upgrade request, read only (nothing created, written or sent back), and
 * `@RequireSession` refuses a subscription with `UNAUTHENTICATED`.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import {
  MemoryStore,
  RedisStore,
  SessionModule,
  type SessionStore,
  type SubscriptionSessionOptions,
} from '../../lib';
import {
  type GraphqlDriverKind,
  bootGraphqlApp,
  graphql,
  GRAPHQL_DRIVERS,
} from '../support/graphql-apps';
import { SessionResolver, SubscriptionResolver } from '../support/graphql-resolvers';
import { subscribeOnce } from '../support/graphql-ws-client';
import { type RedisHandle, startRedis } from '../support/redis-server';
import { cookiePair, sessionIdOf } from './fixtures/cookies';
import { testSecret } from './fixtures/secret';

const COOKIE = 'gql.sid';
/** The drivers whose subscriptions run on graphql-ws through @nestjs/graphql (Apollo). */
const WS_DRIVERS = GRAPHQL_DRIVERS.filter((d): d is GraphqlDriverKind => d !== 'mercurius');

describe.each(['memory', 'redis'] as const)('GraphQL subscriptions on %s', (storeKind) => {
  let redis: RedisHandle | undefined;

  beforeAll(async () => {
    if (storeKind === 'redis') redis = await startRedis();
  }, 60_000);
  afterAll(() => redis?.stop());

  function newStore(name: string): SessionStore {
    if (!redis) return new MemoryStore({ pruneInterval: 0 });
    return new RedisStore({ client: redis.client(), prefix: `${redis.prefix}${name}:` });
  }

  /** A listening application on `driver` with `store`, and its graphql-ws URL. */
  async function listen(
    driver: GraphqlDriverKind,
    store: SessionStore,
    loader: true | SubscriptionSessionOptions = true,
  ): Promise<{ app: INestApplication; url: string }> {
    const app = await bootGraphqlApp(
      driver,
      {
        imports: [SessionModule.forRoot({ secret: testSecret(), name: COOKIE, store })],
        providers: [SessionResolver, SubscriptionResolver],
      },
      loader,
    );
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { app, url: `ws://127.0.0.1:${port}/graphql` };
  }

  describe.each(WS_DRIVERS)('with %s', (driver) => {
    let app: INestApplication;
    let store: SessionStore;
    let url: string;

    beforeAll(async () => {
      store = newStore(driver);
      ({ app, url } = await listen(driver, store));
    });
    afterAll(() => app.close());
    afterEach(() => jest.restoreAllMocks());

    async function signIn(userId: string): Promise<{ cookie: string; sid: string }> {
      const answer = await graphql(app, `mutation { login(userId: "${userId}") }`);
      const cookie = cookiePair(answer.res, COOKIE);
      return { cookie, sid: sessionIdOf(cookie) };
    }

    it('a subscription sees the upgrade request session, and writes nothing back', async () => {
      const { cookie, sid } = await signIn('ann');
      const before = await store.get(sid);
      const set = jest.spyOn(store, 'set');
      const touch = jest.spyOn(store, 'touch');

      const whoami = await subscribeOnce(url, 'subscription { whoami }', cookie);
      expect(whoami.result).toEqual({ data: { whoami: 'ann' } });
      expect(whoami.upgradeHeaders?.['set-cookie']).toBeUndefined();
      const id = await subscribeOnce(url, 'subscription { mySessionId }', cookie);
      expect(id.result).toEqual({ data: { mySessionId: sid } });

      expect(set).not.toHaveBeenCalled();
      expect(touch).not.toHaveBeenCalled();
      expect(await store.get(sid)).toEqual(before);
    });

    it('without a cookie: no session (none created), guarded subscriptions refused', async () => {
      const set = jest.spyOn(store, 'set');
      const anonymous = await subscribeOnce(url, 'subscription { whoami }');
      expect(anonymous.result).toEqual({ data: { whoami: null } });
      expect(anonymous.upgradeHeaders?.['set-cookie']).toBeUndefined();
      const id = await subscribeOnce(url, 'subscription { mySessionId }');
      expect(id.result).toEqual({ data: { mySessionId: null } });
      expect(set).not.toHaveBeenCalled();

      const refused = await subscribeOnce(url, 'subscription { secretFeed }');
      expect(refused.result?.data ?? null).toBeNull();
      const errors = refused.errors ?? refused.result?.errors;
      expect(errors?.[0]).toMatchObject({
        message: 'A session is required',
        extensions: { code: 'UNAUTHENTICATED' },
      });
    });

    it('@RequireSession(key) lets a subscription with the key through', async () => {
      const { cookie } = await signIn('bea');
      const allowed = await subscribeOnce(url, 'subscription { secretFeed }', cookie);
      expect(allowed.result).toEqual({ data: { secretFeed: 'for bea' } });
    });

    it('a store failure closes the connection with 4500, and it connects again after', async () => {
      const { cookie } = await signIn('eve');
      // Every read fails (the engine retries reads): the store is down for this connection.
      const get = jest.spyOn(store, 'get').mockRejectedValue(new Error('store down'));
      // graphql-ws logs what its onConnect threw.
      const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const failed = await subscribeOnce(url, 'subscription { whoami }', cookie);
      expect(get).toHaveBeenCalled();
      expect(logged).toHaveBeenCalled();
      get.mockRestore();
      expect(failed.result).toBeUndefined();
      expect(failed.closeCode).toBe(4500);
      const again = await subscribeOnce(url, 'subscription { whoami }', cookie);
      expect(again.result).toEqual({ data: { whoami: 'eve' } });
    });

    it('a destroyed session is not seen by a later connection', async () => {
      const { cookie, sid } = await signIn('cy');
      await graphql(app, 'mutation { logout }', { cookie });
      expect(await store.get(sid)).toBeFalsy();
      const after = await subscribeOnce(url, 'subscription { whoami }', cookie);
      expect(after.result).toEqual({ data: { whoami: null } });
    });
  });

  describe.each(WS_DRIVERS)('with %s and requireSession', (driver) => {
    let app: INestApplication;
    let url: string;

    beforeAll(async () => {
      ({ app, url } = await listen(driver, newStore(`${driver}-req`), { requireSession: true }));
    });
    afterAll(() => app.close());

    it('closes a connection without a session with 4403; one with a session subscribes', async () => {
      const refused = await subscribeOnce(url, 'subscription { whoami }');
      expect(refused.result).toBeUndefined();
      expect(refused.closeCode).toBe(4403);

      const login = await graphql(app, 'mutation { login(userId: "dee") }');
      const cookie = cookiePair(login.res, COOKIE);
      const allowed = await subscribeOnce(url, 'subscription { whoami }', cookie);
      expect(allowed.result).toEqual({ data: { whoami: 'dee' } });
    });
  });

  // Mercurius serves subscriptions through @fastify/websocket: the upgrade is a Fastify request,
  // so the HTTP session middleware loads its session (no onConnect loader); the upgrade is
  // hijacked, so nothing is committed.
  describe('with mercurius (its own graphql-ws transport)', () => {
    let app: INestApplication;
    let store: SessionStore;
    let url: string;

    beforeAll(async () => {
      store = newStore('mercurius');
      ({ app, url } = await listen('mercurius', store));
    });
    afterAll(() => app.close());
    afterEach(() => jest.restoreAllMocks());

    it('sees the upgrade request session; writes nothing; refuses guarded ones without', async () => {
      const login = await graphql(app, 'mutation { login(userId: "fay") }');
      const cookie = cookiePair(login.res, COOKIE);
      const before = await store.get(sessionIdOf(cookie));
      const set = jest.spyOn(store, 'set');
      const touch = jest.spyOn(store, 'touch');

      const whoami = await subscribeOnce(url, 'subscription { whoami }', cookie);
      expect(whoami.result).toEqual({ data: { whoami: 'fay' } });
      expect(whoami.upgradeHeaders?.['set-cookie']).toBeUndefined();
      const allowed = await subscribeOnce(url, 'subscription { secretFeed }', cookie);
      expect(allowed.result).toEqual({ data: { secretFeed: 'for fay' } });

      const anonymous = await subscribeOnce(url, 'subscription { mySessionId }');
      // The HTTP middleware gave the upgrade a new session; it is never stored nor sent.
      const anonymousId = anonymous.result?.data?.mySessionId as string;
      expect(anonymous.upgradeHeaders?.['set-cookie']).toBeUndefined();
      const refused = await subscribeOnce(url, 'subscription { secretFeed }');
      expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });

      expect(set).not.toHaveBeenCalled();
      expect(touch).not.toHaveBeenCalled();
      expect(await store.get(anonymousId)).toBeFalsy();
      expect(await store.get(sessionIdOf(cookie))).toEqual(before);
    });
  });
});
