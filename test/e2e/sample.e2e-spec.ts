import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { SessionStore } from '../../lib';
import { AppModule } from '../../sample/app.module';
import { AppConfig } from '../../sample/config/app-config';
import { REDIS_CLIENT } from '../../sample/redis/redis.module';
import { SESSION_COOKIE_NAME } from '../../sample/session/session-data';
import { type RedisHandle, startRedis } from '../support/redis-server';
import { cookiePair, expiryOf, sessionIdOf, setCookieFor, setCookies } from './fixtures/cookies';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';

/**
 * The sample app (sample/), end to end, on each store it supports: the default MemoryStore, and
 * Redis (REDIS_URL, or a private redis-server started by test/support/redis-server.ts).
 */
const STORE_KINDS = ['memory', 'redis'] as const;

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('sample app on the %s store', (kind) => {
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
    });

    afterAll(async () => {
      await app?.close();
      await redis?.stop();
    });

    const agent = () => request.agent(app.getHttpServer());
    const server = () => request(app.getHttpServer());

    /** Whether the session is in the store (for Redis, read straight from Redis). */
    async function stored(id: string): Promise<boolean> {
      if (redis) {
        const client = app.get<{ exists(key: string): Promise<number> }>(REDIS_CLIENT);
        return (await client.exists(redis.prefix + id)) === 1;
      }
      return (await store.get(id)) != null;
    }

    async function login(a: TestAgent, username: string, password: string) {
      const res = await a.post('/auth/login').send({ username, password });
      expect(res.status).toBe(200);
      return res;
    }

    it('a password change signs the user out of every other device', async () => {
      const laptop = agent();
      const phone = agent();
      const bob = agent();
      await login(laptop, 'alice', 'wonderland');
      await login(phone, 'alice', 'wonderland');
      await login(bob, 'bob', 'builder');
      await laptop
        .post('/auth/password')
        .send({ currentPassword: 'wrong-password', newPassword: 'looking-glass' })
        .expect(403);
      const changed = await laptop
        .post('/auth/password')
        .send({ currentPassword: 'wonderland', newPassword: 'looking-glass' })
        .expect(200);
      expect(changed.body).toEqual({ changed: true, otherSessionsRevoked: 1 });
      await phone.get('/profile').expect(401);
      await laptop.get('/profile').expect(200);
      await bob.get('/profile').expect(200);
      await server()
        .post('/auth/login')
        .send({ username: 'alice', password: 'wonderland' })
        .expect(401);
      const again = agent();
      await login(again, 'alice', 'looking-glass');
      // put the password back for the other tests of this app
      await again
        .post('/auth/password')
        .send({ currentPassword: 'looking-glass', newPassword: 'wonderland' })
        .expect(200);
    });

    it('runs on the expected store', () => {
      expect(store.constructor.name).toBe(kind === 'redis' ? 'RedisStore' : 'MemoryStore');
      expect(app.get(REDIS_CLIENT) === null).toBe(kind === 'memory');
    });

    it('refuses the profile to anonymous visitors and wrong passwords (401, no session)', async () => {
      const a = agent();
      const anonymous = await a.get('/profile');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });

      const wrong = await a.post('/auth/login').send({ username: 'alice', password: 'builder' });
      expect(wrong.status).toBe(401);
      expect(setCookieFor(wrong, SESSION_COOKIE_NAME)).toBeUndefined();

      const unknown = await a.post('/auth/login').send({ username: 'mallory', password: 'x' });
      expect(unknown.status).toBe(401);
      const missing = await a.post('/auth/login').send({});
      expect(missing.status).toBe(401);
      expect((await a.get('/profile')).status).toBe(401);
    });

    it('signs in on a new session id: HttpOnly SameSite=Lax cookie, the old id is dead', async () => {
      const a = agent();
      const visit = await a.get('/counter');
      expect(visit.body).toEqual({ visits: 1 });
      const before = cookiePair(visit, SESSION_COOKIE_NAME);
      expect(await stored(sessionIdOf(before))).toBe(true);

      const res = await login(a, 'alice', 'wonderland');
      expect(res.body).toEqual({
        user: { username: 'alice', displayName: 'Alice Liddell', roles: ['admin'] },
      });
      const line = setCookieFor(res, SESSION_COOKIE_NAME) ?? '';
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Lax/);
      expect(line).toMatch(/; Path=\//);
      expect(line).not.toMatch(/; Secure/);
      expect(expiryOf(line)).toBeGreaterThan(Date.now() + 7 * 3600_000);
      const after = cookiePair(res, SESSION_COOKIE_NAME);
      expect(sessionIdOf(after)).not.toBe(sessionIdOf(before));

      // Fixation: the id known before sign-in gives nothing now.
      expect(await stored(sessionIdOf(before))).toBe(false);
      expect(await stored(sessionIdOf(after))).toBe(true);
      expect((await server().get('/profile').set('Cookie', before)).status).toBe(401);
      expect((await server().get('/counter').set('Cookie', before)).body).toEqual({ visits: 1 });

      const profile = await a.get('/profile');
      expect(profile.status).toBe(200);
      expect(profile.body).toEqual({
        username: 'alice',
        displayName: 'Alice Liddell',
        roles: ['admin'],
        visits: 0,
        cartItems: 0,
      });
      // The new cookie works on its own, too.
      expect((await server().get('/profile').set('Cookie', after)).status).toBe(200);
    });

    it('counts visits per session', async () => {
      const a = agent();
      const b = agent();
      await login(a, 'bob', 'builder');
      for (const expected of [1, 2, 3]) {
        expect((await a.get('/counter')).body).toEqual({ visits: expected });
      }
      expect((await b.get('/counter')).body).toEqual({ visits: 1 });
      expect((await a.get('/profile')).body).toMatchObject({ username: 'bob', visits: 3 });
    });

    it('keeps a cart in the session: add, list, remove', async () => {
      const a = agent();
      await login(a, 'bob', 'builder');
      expect((await a.get('/cart')).body).toEqual({ items: [], total: 0 });

      expect((await a.post('/cart/items').send({ productId: 'tea', quantity: 2 })).status).toBe(
        200,
      );
      await a.post('/cart/items').send({ productId: 'hammer' });
      const added = await a.post('/cart/items').send({ productId: 'tea' });
      expect(added.body).toEqual({
        items: [
          { productId: 'tea', quantity: 3, name: 'Mad Hatter tea', price: 450, subtotal: 1350 },
          { productId: 'hammer', quantity: 1, name: 'Claw hammer', price: 1299, subtotal: 1299 },
        ],
        total: 2649,
      });
      expect((await a.get('/cart')).body).toEqual(added.body);
      expect((await a.get('/profile')).body).toMatchObject({ cartItems: 4 });

      expect((await a.post('/cart/items').send({ productId: 'unicorn' })).status).toBe(404);
      const bad = await a.post('/cart/items').send({ productId: 'tea', quantity: -1 });
      expect(bad.status).toBe(400);

      const removed = await a.delete('/cart/items/tea');
      expect(removed.status).toBe(200);
      expect(removed.body).toEqual({
        items: [
          { productId: 'hammer', quantity: 1, name: 'Claw hammer', price: 1299, subtotal: 1299 },
        ],
        total: 1299,
      });
      expect((await a.delete('/cart/items/tea')).status).toBe(404);
      expect((await a.get('/cart')).body).toEqual(removed.body);

      // Anonymous visitors have their own cart.
      const visitor = agent();
      await visitor.post('/cart/items').send({ productId: 'cake' });
      expect((await visitor.get('/cart')).body.total).toBe(300);
      expect((await a.get('/cart')).body.total).toBe(1299);
    });

    it('lets the admin list sessions and revoke one; others get 403', async () => {
      const alice = agent();
      const bob = agent();
      await login(alice, 'alice', 'wonderland');
      const bobLogin = await login(bob, 'bob', 'builder');
      const bobId = sessionIdOf(cookiePair(bobLogin, SESSION_COOKIE_NAME));

      expect((await server().get('/admin/sessions')).status).toBe(401);
      const forbidden = await bob.get('/admin/sessions');
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toMatchObject({ statusCode: 403, message: 'Administrators only' });

      const listed = await alice.get('/admin/sessions');
      expect(listed.status).toBe(200);
      const sessions = listed.body.sessions as { id: string; user: string; current: boolean }[];
      expect(sessions.length).toBeGreaterThanOrEqual(2);
      expect(sessions.filter((s) => s.current)).toEqual([
        expect.objectContaining({ user: 'alice', current: true }),
      ]);
      expect(sessions).toContainEqual(
        expect.objectContaining({ id: bobId, user: 'bob', current: false }),
      );

      expect((await bob.get('/profile')).status).toBe(200);
      const revoked = await alice.delete(`/admin/sessions/${encodeURIComponent(bobId)}`);
      expect(revoked.status).toBe(204);
      expect(await stored(bobId)).toBe(false);
      expect((await bob.get('/profile')).status).toBe(401);
      expect((await alice.delete(`/admin/sessions/${bobId}`)).status).toBe(404);
      const again = await alice.get('/admin/sessions');
      expect(again.body.sessions.map((s: { id: string }) => s.id)).not.toContain(bobId);
      expect((await alice.get('/profile')).status).toBe(200);
    });

    it('HTML forms without a browser: CSRF, sign-in redirects, counter, cart, devices, sign-out', async () => {
      const a = agent();
      const token = async (path: string) => {
        const page = await a.get(path).expect(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        return /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
      };
      const anonymous = await a.get('/web').expect(200);
      expect(setCookies(anonymous)).toEqual([]);
      const csrf = await token('/web/sign-in');
      const post = (path: string, form: Record<string, string>) =>
        a.post(path).type('form').send(form).redirects(0);
      expect((await post('/web/sign-in', { username: 'alice', password: 'x' })).status).toBe(403);
      const wrong = await post('/web/sign-in', { username: 'alice', password: 'x', _csrf: csrf });
      expect([wrong.status, wrong.headers.location]).toEqual([303, '/web/sign-in']);
      const ok = await post('/web/sign-in', {
        username: 'alice',
        password: 'wonderland',
        _csrf: csrf,
      });
      expect([ok.status, ok.headers.location]).toEqual([303, '/web']);
      expect(setCookieFor(ok, SESSION_COOKIE_NAME)).toMatch(/; HttpOnly; SameSite=Lax$/);
      expect((await a.get('/web')).text).toContain('Signed in as <strong id="user">Alice Liddell');
      expect((await a.get('/web/counter')).text).toContain('href="/web/devices"');
      const cartToken = await token('/web/cart');
      const added = await post('/web/cart/add', { productId: 'tea', _csrf: cartToken });
      expect([added.status, added.headers.location]).toEqual([303, '/web/cart']);
      expect((await a.get('/cart')).body.items).toMatchObject([{ productId: 'tea', quantity: 1 }]);
      const missing = await post('/web/cart/add', { productId: 'nope', _csrf: cartToken });
      expect(missing.status).toBe(404);
      expect(missing.text).toContain('No product');
      expect((await a.get('/web/devices').expect(200)).text).toContain('action="/web/sign-out"');
      const out = await post('/web/sign-out', { _csrf: cartToken });
      expect([out.status, out.headers.location]).toEqual([303, '/web']);
      // (The signed-out page's flash message: see the flash tests below.)
      const gone = await a.get('/web/devices').redirects(0);
      expect([gone.status, gone.headers.location]).toEqual([303, '/web/sign-in']);
    });

    it('signs out: the session is destroyed, the cookie cleared, the old cookie is dead', async () => {
      const a = agent();
      const res = await login(a, 'alice', 'wonderland');
      const pair = cookiePair(res, SESSION_COOKIE_NAME);
      await a.post('/cart/items').send({ productId: 'cake' });

      const out = await a.post('/auth/logout');
      expect(out.status).toBe(200);
      expect(out.body).toEqual({ signedOut: true });
      const lines = setCookies(out).filter((l) => l.startsWith(`${SESSION_COOKIE_NAME}=`));
      expect(lines).toHaveLength(1);
      const cleared = lines[0] as string;
      expect(cleared).toMatch(new RegExp(`^${SESSION_COOKIE_NAME}=;`));
      expect(cleared).toMatch(/; Path=\//);
      expect(expiryOf(cleared)).toBeLessThan(Date.now());

      expect(await stored(sessionIdOf(pair))).toBe(false);
      expect((await a.get('/profile')).status).toBe(401);
      expect((await a.get('/cart')).body).toEqual({ items: [], total: 0 });
      expect((await server().get('/profile').set('Cookie', pair)).status).toBe(401);
      // Signing out without a session is harmless.
      expect((await server().post('/auth/logout')).status).toBe(200);
    });

    it('a client without cookies signs in, reads and signs out with the x-session-id header', async () => {
      const login = await server()
        .post('/auth/login')
        .set('x-session-id', '')
        .send({ username: 'alice', password: 'wonderland' })
        .expect(200);
      expect(login.headers['set-cookie']).toBeUndefined();
      const sid = login.headers['x-session-id'] as string;
      expect(sid).toMatch(/^s:/);
      const profile = await server().get('/profile').set('x-session-id', sid).expect(200);
      expect(profile.headers['x-session-id']).toBeUndefined();
      const out = await server().post('/auth/logout').set('x-session-id', sid).expect(200);
      expect(out.headers['x-session-id']).toBe('');
      expect(out.headers['set-cookie']).toBeUndefined();
      await server().get('/profile').set('x-session-id', sid).expect(401);
      // A cookie client of the same app never sees the header.
      const viaCookie = await server()
        .post('/auth/login')
        .send({ username: 'alice', password: 'wonderland' })
        .expect(200);
      expect(viaCookie.headers['x-session-id']).toBeUndefined();
      expect(setCookieFor(viaCookie, SESSION_COOKIE_NAME)).toBeDefined();
    });

    /** The form token of an HTML page. */
    function csrfOf(html: string): string {
      const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
      if (!token) throw new Error('no form token on the page');
      return token;
    }

    /** The one-time notices (flash messages) an HTML page shows. */
    function noticesOf(html: string): string[] {
      return [...html.matchAll(/role="status">([^<]*)</g)].map((m) => m[1] as string);
    }

    it('web: a wrong password is shown once on the form, through a flash message', async () => {
      const a = agent();
      const form = await a.get('/web/sign-in').expect(200);
      expect(noticesOf(form.text)).toEqual([]);
      const failed = await a
        .post('/web/sign-in')
        .type('form')
        .send({ username: 'alice', password: 'nope', _csrf: csrfOf(form.text) })
        .expect(303);
      expect(failed.headers.location).toBe('/web/sign-in');
      const shown = await a.get('/web/sign-in').expect(200);
      expect(noticesOf(shown.text)).toEqual(['Wrong username or password.']);
      const again = await a.get('/web/sign-in').expect(200);
      expect(noticesOf(again.text)).toEqual([]);
    });

    it('web: signing out shows "You are signed out." once and leaves no session behind', async () => {
      const a = agent();
      const form = await a.get('/web/sign-in').expect(200);
      const signIn = await a
        .post('/web/sign-in')
        .type('form')
        .send({ username: 'bob', password: 'builder', _csrf: csrfOf(form.text) })
        .expect(303);
      const signedIn = sessionIdOf(cookiePair(signIn, SESSION_COOKIE_NAME));
      const home = await a.get('/web').expect(200);
      const out = await a
        .post('/web/sign-out')
        .type('form')
        .send({ _csrf: csrfOf(home.text) })
        .expect(303);
      expect(out.headers.location).toBe('/web');
      expect(await stored(signedIn)).toBe(false);
      // The notice waits in a new session, made for it.
      const notice = sessionIdOf(cookiePair(out, SESSION_COOKIE_NAME));
      expect(notice).not.toBe(signedIn);
      expect(await stored(notice)).toBe(true);

      const shown = await a.get('/web').expect(200);
      expect(noticesOf(shown.text)).toEqual(['You are signed out.']);
      expect(shown.text).toMatch(/not signed in/);
      // Read, it left that session empty: destroyed, the cookie cleared.
      expect(expiryOf(setCookieFor(shown, SESSION_COOKIE_NAME) as string)).toBeLessThan(Date.now());
      expect(await stored(notice)).toBe(false);
      const later = await a.get('/web').expect(200);
      expect(noticesOf(later.text)).toEqual([]);
    });
  });
});
