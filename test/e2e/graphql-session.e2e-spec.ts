/**
 * Sessions in GraphQL resolvers, on each driver (Apollo on Express, Apollo on Fastify,
 * Mercurius on Fastify) with its default context, on MemoryStore and on a real Redis: the
 * decorators read the HTTP request's session, the guard refuses with `UNAUTHENTICATED`, and the
 * HTTP response commits what a mutation changed (regenerate, destroy) while a read writes nothing.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MemoryStore, RedisStore, SessionGuard, SessionModule, type SessionStore } from '../../lib';
import {
  GRAPHQL_DRIVERS,
  type GraphqlAnswer,
  bootGraphqlApp,
  graphql,
} from '../support/graphql-apps';
import {
  GloballyGuardedResolver,
  MembersResolver,
  SessionResolver,
} from '../support/graphql-resolvers';
import { type RedisHandle, startRedis } from '../support/redis-server';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { testSecret } from './fixtures/secret';

const COOKIE = 'gql.sid';

/** The cookie a browser would send back after `answer`. */
function cookieOf(answer: GraphqlAnswer<unknown>): string {
  return cookiePair(answer.res, COOKIE);
}

describe.each(['memory', 'redis'] as const)('GraphQL sessions on %s', (storeKind) => {
  let redis: RedisHandle | undefined;

  beforeAll(async () => {
    if (storeKind === 'redis') redis = await startRedis();
  }, 60_000);
  afterAll(() => redis?.stop());

  function newStore(name: string): SessionStore {
    if (!redis) return new MemoryStore({ pruneInterval: 0 });
    return new RedisStore({ client: redis.client(), prefix: `${redis.prefix}${name}:` });
  }

  describe.each(GRAPHQL_DRIVERS)('with %s', (driver) => {
    let app: INestApplication;
    let store: SessionStore;

    beforeAll(async () => {
      store = newStore(driver);
      app = await bootGraphqlApp(driver, {
        imports: [SessionModule.forRoot({ secret: testSecret(), name: COOKIE, store })],
        providers: [SessionResolver, MembersResolver],
      });
    });
    afterAll(() => app.close());

    afterEach(() => jest.restoreAllMocks());

    /** A signed-in visitor: the cookie and the session id of a `login` mutation. */
    async function signIn(userId = 'ann'): Promise<{ cookie: string; sid: string }> {
      const answer = await graphql<{ login: string }>(
        app,
        'mutation($u: String!) { login(userId: $u) }',
        { variables: { u: userId } },
      );
      expect(answer.errors).toBeUndefined();
      const cookie = cookieOf(answer);
      return { cookie, sid: sessionIdOf(cookie) };
    }

    it('a mutation persists the session; the next operation reads it in a resolver', async () => {
      const first = await graphql<{ visit: number }>(app, 'mutation { visit }');
      expect(first.data).toEqual({ visit: 1 });
      const cookie = cookieOf(first);
      const sid = sessionIdOf(cookie);
      expect((await store.get(sid))?.visits).toBe(1);

      const set = jest.spyOn(store, 'set');
      const second = await graphql<{ visit: number }>(app, 'mutation { visit }', { cookie });
      expect(second.data).toEqual({ visit: 2 });
      expect(set).toHaveBeenCalledTimes(1);
      const read = await graphql(app, '{ visits sessionId }', { cookie });
      expect(read.data).toEqual({ visits: 2, sessionId: sid });
      expect((await store.get(sid))?.visits).toBe(2);
    });

    it('@Session(key) and @SessionId() read the request session; none without a cookie', async () => {
      const { cookie, sid } = await signIn('bea');
      const signedIn = await graphql(app, '{ userId sessionId }', { cookie });
      expect(signedIn.data).toEqual({ userId: 'bea', sessionId: sid });

      const anonymous = await graphql<{ userId: string | null; sessionId: string }>(
        app,
        '{ userId sessionId }',
      );
      expect(anonymous.data?.userId).toBeNull();
      // A new, unsaved session (saveUninitialized is false): an id, no cookie, no record.
      expect(anonymous.data?.sessionId).toEqual(expect.any(String));
      expect(anonymous.data?.sessionId).not.toBe(sid);
      expect(setCookieFor(anonymous.res, COOKIE)).toBeUndefined();
      expect(await store.get(anonymous.data?.sessionId as string)).toBeFalsy();
    });

    it('a read-only query writes nothing: no store write, no Set-Cookie, the record unchanged', async () => {
      const { cookie, sid } = await signIn();
      const before = await store.get(sid);
      const set = jest.spyOn(store, 'set');
      const read = await graphql(app, '{ userId visits sessionId }', { cookie });
      expect(read.data).toEqual({ userId: 'ann', visits: 0, sessionId: sid });
      expect(set).not.toHaveBeenCalled();
      expect(setCookieFor(read.res, COOKIE)).toBeUndefined();
      expect(await store.get(sid)).toEqual(before);
    });

    it('login regenerates: a new cookie, the old id gone from the store', async () => {
      const visited = await graphql(app, 'mutation { visit }');
      const oldCookie = cookieOf(visited);
      const oldSid = sessionIdOf(oldCookie);
      expect(await store.get(oldSid)).toBeTruthy();

      const login = await graphql<{ login: string }>(app, 'mutation { login(userId: "cy") }', {
        cookie: oldCookie,
      });
      const newCookie = cookieOf(login);
      const newSid = sessionIdOf(newCookie);
      expect(newSid).not.toBe(oldSid);
      expect(login.data).toEqual({ login: newSid });
      expect(await store.get(oldSid)).toBeFalsy();
      expect((await store.get(newSid))?.userId).toBe('cy');

      const old = await graphql(app, '{ userId }', { cookie: oldCookie });
      expect(old.data).toEqual({ userId: null });
      const fresh = await graphql(app, '{ userId }', { cookie: newCookie });
      expect(fresh.data).toEqual({ userId: 'cy' });
    });

    it('logout destroys the record and clears the cookie', async () => {
      const { cookie, sid } = await signIn();
      const out = await graphql(app, 'mutation { logout }', { cookie });
      expect(out.data).toEqual({ logout: true });
      const cleared = setCookieFor(out.res, COOKIE);
      expect(cleared).toBeDefined();
      expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
      expect(await store.get(sid)).toBeFalsy();
      const after = await graphql(app, '{ secret }', { cookie });
      expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('@RequireSession(key): UNAUTHENTICATED in extensions, HTTP 200, without the session', async () => {
      const denied = await graphql(app, '{ secret }');
      // Each driver answers a resolver error with 200 and `data: null` (a non-null root field).
      expect(denied.res.status).toBe(200);
      expect(denied.res.headers['content-type']).toMatch(/application\/(graphql-response\+)?json/);
      expect(denied.data).toBeNull();
      expect(denied.errors).toHaveLength(1);
      expect(denied.errors?.[0]).toMatchObject({
        message: 'A session is required',
        extensions: { code: 'UNAUTHENTICATED' },
      });

      // A session without the key is refused too, with its own message.
      const visited = await graphql(app, 'mutation { visit }');
      const lacking = await graphql(app, '{ secret }', { cookie: cookieOf(visited) });
      expect(lacking.errors?.[0]).toMatchObject({
        message: 'The session lacks what this route requires',
        extensions: { code: 'UNAUTHENTICATED' },
      });

      const { cookie } = await signIn('dee');
      const allowed = await graphql(app, '{ secret }', { cookie });
      expect(allowed).toMatchObject({ data: { secret: 'for dee' }, errors: undefined });
    });

    it('@RequireSession() on a resolver class guards each of its operations', async () => {
      const denied = await graphql(app, '{ membersOnly }');
      expect(denied.res.status).toBe(200);
      expect(denied.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const { cookie, sid } = await signIn();
      const allowed = await graphql(app, '{ membersOnly }', { cookie });
      expect(allowed.data).toEqual({ membersOnly: sid });
    });
  });

  describe.each(GRAPHQL_DRIVERS)('with %s and SessionGuard as APP_GUARD', (driver) => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await bootGraphqlApp(driver, {
        imports: [
          SessionModule.forRoot({ secret: testSecret(), name: COOKIE, store: newStore(driver) }),
        ],
        providers: [GloballyGuardedResolver, { provide: APP_GUARD, useClass: SessionGuard }],
      });
    });
    afterAll(() => app.close());

    it('@OptionalSession() operations run without a session; the others are refused', async () => {
      const welcome = await graphql(app, '{ welcome }');
      expect(welcome.data).toEqual({ welcome: 'welcome' });
      const denied = await graphql(app, '{ account }');
      expect(denied.res.status).toBe(200);
      expect(denied.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

      const visit = await graphql(app, 'mutation { visitAnonymously }');
      expect(visit.data).toEqual({ visitAnonymously: 1 });
      const cookie = cookieOf(visit);
      const account = await graphql(app, '{ account }', { cookie });
      expect(account).toMatchObject({ data: { account: 1 }, errors: undefined });
    });
  });
});
