/**
 * The sample's flows through real HTTP on Nest 12 (ESM), with nest-session installed from its
 * `npm pack` tarball, on the module's default MemoryStore and on RedisStore (real Redis).
 *
 * On purpose, `nest-session` is the first module this file loads (the `@nestjs/common` import is
 * type-only): its CommonJS then `require()`s Nest's ES modules while the import graph that holds
 * them is still loading. Node 20.19.0-20.19.4, 22.12-22.14 and 23.0-23.6 refuse that
 * (ERR_REQUIRE_CYCLE_MODULE); 22.15-22.16, 23.7-23.11 and 24.0 hand back @nestjs/core before it
 * has run ("Cannot access 'Reflector' before initialization"). The `engines` floors
 * (^20.19.5 || ^22.17.0 || >=24.1.0) come from this test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { MemoryStore, RedisStore, SessionStore } from 'nest-session';
import { startApp } from '../src/app.js';
import { startRedis, type RedisHandle } from '../src/redis.js';

interface Reply {
  status: number;
  body: any;
  /** `sid=...` from Set-Cookie, when one was sent. */
  cookie: string | undefined;
  setCookie: string | undefined;
}

function client(baseUrl: string) {
  return async (
    method: 'GET' | 'POST',
    path: string,
    options: { cookie?: string; json?: unknown } = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (options.cookie) headers.cookie = options.cookie;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(baseUrl + path, {
      method,
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
    });
    const text = await res.text();
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
    return {
      status: res.status,
      body: text ? JSON.parse(text) : undefined,
      cookie: setCookie?.split(';')[0],
      setCookie,
    };
  };
}

const variants: {
  name: string;
  setup(): Promise<{ store: SessionStore | undefined; stop(): Promise<void> }>;
}[] = [
  {
    name: 'MemoryStore (the module default)',
    async setup() {
      return { store: undefined, stop: async () => undefined };
    },
  },
  {
    name: 'RedisStore on a real Redis',
    async setup() {
      const redis: RedisHandle = await startRedis();
      return {
        store: new RedisStore({ client: redis.client, prefix: redis.prefix }),
        stop: () => redis.stop(),
      };
    },
  },
];

/** The manifest of an installed package of this (clean, temporary) folder. */
function installed(name: string): { version: string; type?: string } {
  return JSON.parse(
    readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8'),
  );
}

describe('installed versions', () => {
  it('runs Nest 12 (ESM-only) and nest-session from its npm pack tarball', () => {
    for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express']) {
      assert.match(installed(name).version, /^12\./, name);
      assert.equal(installed(name).type, 'module', `${name} is ESM-only`);
    }
    const lock = JSON.parse(
      readFileSync(new URL('../../node_modules/.package-lock.json', import.meta.url), 'utf8'),
    );
    assert.match(lock.packages['node_modules/nest-session'].resolved, /^file:.*\.tgz$/);
    // The packed library holds dist/ only: no TypeScript sources were installed.
    assert.throws(
      () => readFileSync(new URL('../../node_modules/nest-session/lib/index.ts', import.meta.url)),
      /ENOENT/,
    );
  });
});

for (const variant of variants) {
  describe(`Nest 12 app on ${variant.name}`, () => {
    let app: INestApplication;
    let store: SessionStore;
    let request: ReturnType<typeof client>;
    let stop: () => Promise<void>;
    let configured: SessionStore | undefined;

    before(async () => {
      const setup = await variant.setup();
      stop = setup.stop;
      configured = setup.store;
      const started = await startApp(setup.store);
      app = started.app;
      store = started.store;
      request = client(started.baseUrl);
    });

    after(async () => {
      await app?.close();
      await stop?.();
    });

    async function login(cookie?: string): Promise<Reply> {
      const reply = await request('POST', '/auth/login', {
        cookie,
        json: { username: 'alice', password: 'wonderland' },
      });
      assert.equal(reply.status, 200);
      assert.ok(reply.cookie, 'login sets a session cookie');
      return reply;
    }

    it('injects the SessionStore the module runs on', () => {
      if (configured) assert.equal(store, configured);
      else assert.ok(store instanceof MemoryStore);
      assert.ok(store instanceof SessionStore);
    });

    it('counts visits in the session, per cookie', async () => {
      const first = await request('GET', '/counter');
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { visits: 1 });
      assert.ok(first.cookie);
      assert.match(first.setCookie!, /HttpOnly/i);
      const second = await request('GET', '/counter', { cookie: first.cookie });
      assert.deepEqual(second.body, { visits: 2 });
      const other = await request('GET', '/counter');
      assert.deepEqual(other.body, { visits: 1 });
    });

    it('@RequireSession: 401 without a session or without userId, 200 once signed in', async () => {
      assert.equal((await request('GET', '/profile')).status, 401);
      const visitor = await request('GET', '/counter');
      assert.equal((await request('GET', '/profile', { cookie: visitor.cookie })).status, 401);
      const signedIn = await login();
      const profile = await request('GET', '/profile', { cookie: signedIn.cookie });
      assert.equal(profile.status, 200);
      assert.equal(profile.body.userId, 'alice');
    });

    it('refuses a wrong password (401) and keeps no session', async () => {
      const reply = await request('POST', '/auth/login', {
        json: { username: 'alice', password: 'nope' },
      });
      assert.equal(reply.status, 401);
      assert.equal(reply.cookie, undefined);
    });

    it('login regenerates the session: new id, cart kept, the old id is gone', async () => {
      const visitor = await request('POST', '/cart', { json: { item: 'apple' } });
      assert.deepEqual(visitor.body, ['apple']);
      const before = await request('GET', '/counter', { cookie: visitor.cookie });
      assert.deepEqual(before.body, { visits: 1 });
      const signedIn = await login(visitor.cookie);
      assert.notEqual(signedIn.cookie, visitor.cookie);
      const profile = await request('GET', '/profile', { cookie: signedIn.cookie });
      assert.equal(profile.status, 200);
      assert.deepEqual(profile.body.cart, ['apple']);
      assert.equal(profile.body.sessionId, signedIn.body.sessionId);
      // The pre-login session was destroyed: its cookie now starts afresh (no visits, no cart).
      const old = await request('GET', '/counter', { cookie: visitor.cookie });
      assert.deepEqual(old.body, { visits: 1 });
      assert.notEqual(old.cookie, visitor.cookie);
    });

    it('logout destroys the session and clears the cookie', async () => {
      const signedIn = await login();
      const id = signedIn.body.sessionId as string;
      assert.ok(await store.get(id));
      const out = await request('POST', '/auth/logout', { cookie: signedIn.cookie });
      assert.equal(out.status, 200);
      assert.ok(out.setCookie, 'logout sends a Set-Cookie');
      assert.match(out.setCookie!, /Expires=Thu, 01 Jan 1970/);
      assert.equal(await store.get(id), undefined);
      assert.equal((await request('GET', '/profile', { cookie: signedIn.cookie })).status, 401);
    });

    it('lists and revokes sessions through the injected SessionStore', async () => {
      const signedIn = await login();
      const id = signedIn.body.sessionId as string;
      const listed = await request('GET', '/admin/sessions');
      assert.equal(listed.status, 200);
      assert.ok(listed.body.ids.includes(id));
      assert.equal(listed.body.length, listed.body.ids.length);
      const revoked = await request('POST', '/admin/revoke', { json: { id } });
      assert.equal(revoked.status, 200);
      assert.equal((await request('GET', '/profile', { cookie: signedIn.cookie })).status, 401);
      const after = await request('GET', '/admin/sessions');
      assert.ok(!after.body.ids.includes(id));
    });
  });
}
