/**
 * Sessions in gateways, over real sockets (socket.io-client, ws) to a real Nest application on
 * Express and Fastify, on MemoryStore and a private Redis: the handshake reads the HTTP login's
 * session (cookie or session header) without creating one, `@Session()`/`@SessionId()`/
 * `sessionOf()` see it, `@RequireSession()` answers an exception, a handler's changes are saved
 * (and only then), `save()`/`reload()` work, `requireSession` refuses anonymous handshakes, and
 * a destroyed session's sockets are closed.
 */
import 'reflect-metadata';
import request from 'supertest';
import { MemoryStore, RedisStore, type SessionStore } from '../../lib';
import { eventually } from '../support/eventually';
import { cookie as cookieOf } from '../support/express-helpers';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { type RedisHandle, startRedis } from '../support/redis-server';
import { type SocketApp, startSocketApp } from '../support/socket-apps';
import {
  ConnectRefused,
  SOCKET_KINDS,
  type TestSocket,
  connectSocket,
} from '../support/socket-clients';

const secret = 'websocket-gateway-secret-long-enough-12';
const HEADER = 'x-session-id';

type Kind = 'memory' | 'redis';

describe.each<Kind>(['memory', 'redis'])('gateway sessions on %s', (kind) => {
  let redis: RedisHandle | undefined;
  beforeAll(async () => {
    if (kind === 'redis') redis = await startRedis();
  }, 60_000);
  afterAll(() => redis?.stop());

  function newStore(): SessionStore {
    return kind === 'memory'
      ? new MemoryStore({ pruneInterval: 0 })
      : new RedisStore({
          client: (redis as RedisHandle).client(),
          prefix: `${(redis as RedisHandle).prefix}${Math.random().toString(36).slice(2)}:`,
        });
  }

  describe.each(HTTP_ADAPTERS)('on %s', (http) => {
    describe.each(SOCKET_KINDS)('with %s', (socketKind) => {
      let live: SocketApp;
      let strict: SocketApp;
      let store: SessionStore;
      let saves = 0;
      const sockets: TestSocket[] = [];

      beforeAll(async () => {
        store = newStore();
        live = await startSocketApp(http, socketKind, {
          secret,
          store,
          header: HEADER,
          events: { saved: () => void saves++ },
        });
        strict = await startSocketApp(
          http,
          socketKind,
          { secret, store: newStore() },
          { requireSession: true },
        );
      });
      afterAll(async () => {
        await live?.close();
        await strict?.close();
        await store?.close?.();
      });
      afterEach(() => {
        for (const s of sockets.splice(0)) s.close();
      });

      async function connect(app: SocketApp, headers: Record<string, string> = {}) {
        const socket = await connectSocket(socketKind, app.port, headers);
        sockets.push(socket);
        return socket;
      }
      async function login(app = live, user = 'alice'): Promise<string> {
        return cookieOf(
          await request(app.app.getHttpServer()).post('/login').send({ user }),
          'sid',
        );
      }

      it('reads the HTTP login’s session at the handshake: decorators and sessionOf()', async () => {
        const cookie = await login();
        live.seen.length = 0;
        const socket = await connect(live, { Cookie: cookie });
        const { data } = await socket.request<{ user: string; id: string }>('whoami');
        expect(data.user).toBe('alice');
        expect(data.id).toMatch(/^[\w-]{32}$/);
        expect(live.seen).toEqual(['alice']);
      });

      it('reads the session header for API clients', async () => {
        const res = await request(live.app.getHttpServer())
          .post('/login')
          .set(HEADER, '')
          .send({ user: 'api' });
        const socket = await connect(live, { [HEADER]: res.headers[HEADER] as string });
        expect((await socket.request('whoami')).data).toMatchObject({ user: 'api' });
      });

      it('creates no session for an anonymous socket, and RequireSession answers an exception', async () => {
        const before = await store.length?.();
        const socket = await connect(live);
        expect((await socket.request('whoami')).data).toEqual({ user: null, id: null });
        expect(await socket.request('add', 'apple')).toEqual({ event: 'add', data: null });
        expect(await socket.request('secret')).toMatchObject({
          event: 'exception',
          data: { status: 'error', message: 'A session is required' },
        });
        expect(await store.length?.()).toBe(before);
        expect(socket.closed).toBe(false);
      });

      it('RequireSession lets a socket with the session through', async () => {
        const socket = await connect(live, { Cookie: await login() });
        expect(await socket.request('secret')).toEqual({ event: 'secret', data: 'ok' });
      });

      it('saves what a handler changed when it completes, and only then', async () => {
        const cookie = await login();
        const socket = await connect(live, { Cookie: cookie });
        saves = 0;
        await socket.request('whoami');
        expect(saves).toBe(0);
        expect((await socket.request('add', 'apple')).data).toEqual(['apple']);
        expect(saves).toBe(1);
        expect((await socket.request('add', 'pear')).data).toEqual(['apple', 'pear']);
        const me = await request(live.app.getHttpServer()).get('/me').set('Cookie', cookie);
        expect(me.body).toEqual({ user: 'alice', cart: ['apple', 'pear'] });
        expect(me.headers['set-cookie']).toBeUndefined();
      });

      it('save() and reload() work as on HTTP', async () => {
        const cookie = await login();
        const socket = await connect(live, { Cookie: cookie });
        saves = 0;
        expect((await socket.request('save')).data).toBe('saved');
        expect(saves).toBe(1); // the explicit save only: nothing changed after it
        await request(live.app.getHttpServer())
          .post('/note')
          .set('Cookie', cookie)
          .send({ note: 'from http' })
          .expect(201);
        expect((await socket.request('reload')).data).toBe('from http');
        const me = await request(live.app.getHttpServer()).get('/me').set('Cookie', cookie);
        expect(me.body).toEqual({ user: 'alice', saved: 'explicitly', note: 'from http' });
      });

      it('requireSession refuses a handshake without a valid session', async () => {
        const refused = await connectSocket(socketKind, strict.port).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(ConnectRefused);
        expect((refused as ConnectRefused).status).toBe(401);
        if (socketKind === 'socket.io') {
          expect((refused as ConnectRefused).message).toBe('A session is required');
        }
        const tampered = (await login(strict)).slice(0, -2) + 'xx';
        await expect(
          connectSocket(socketKind, strict.port, { Cookie: tampered }),
        ).rejects.toBeInstanceOf(ConnectRefused);
        const socket = await connect(strict, { Cookie: await login(strict) });
        expect((await socket.request('whoami')).data).toMatchObject({ user: 'alice' });
      });

      it('closes the sockets of a session logged out over HTTP, not the others', async () => {
        const cookie = await login();
        const other = await login(live, 'bob');
        const first = await connect(live, { Cookie: cookie });
        const second = await connect(live, { Cookie: cookie });
        const bob = await connect(live, { Cookie: other });
        await request(live.app.getHttpServer()).post('/logout').set('Cookie', cookie).expect(201);
        expect(await eventually(async () => first.closed && second.closed)).toBe(true);
        expect(first.closeReason).toBe(socketKind === 'ws' ? 4401 : 'io server disconnect');
        expect(bob.closed).toBe(false);
        expect((await bob.request('whoami')).data).toMatchObject({ user: 'bob' });
      });

      it('closes the sockets of every session destroyForUser revokes', async () => {
        const laptop = await login(live, 'carol');
        const phone = await login(live, 'carol');
        const onLaptop = await connect(live, { Cookie: laptop });
        const onPhone = await connect(live, { Cookie: phone });
        await request(live.app.getHttpServer())
          .post('/everywhere')
          .set('Cookie', laptop)
          .expect(201, { revoked: 2 });
        expect(await eventually(async () => onLaptop.closed && onPhone.closed)).toBe(true);
      });

      it('a reload that finds the session gone closes the socket', async () => {
        const cookie = await login();
        const socket = await connect(live, { Cookie: cookie });
        // Removed behind the store's back (as an expiry would), so no revocation is heard.
        await removeQuietly(store, cookie);
        const answer = await socket.request('reload');
        expect(answer.event).toBe('exception');
        expect(await eventually(async () => socket.closed)).toBe(true);
      });
    });
  });

  /** Deletes the session of `cookie` without a destroy (no revocation is published). */
  async function removeQuietly(store: SessionStore, cookie: string): Promise<void> {
    const sid = decodeURIComponent(cookie.split('=')[1] as string)
      .slice(2)
      .split('.')[0] as string;
    if (store instanceof RedisStore) {
      await (redis as RedisHandle).client().del(store.prefix + sid);
    } else {
      (store as unknown as { entries: Map<string, unknown> }).entries.delete(sid);
    }
  }
});

describe.each(SOCKET_KINDS)('a store failure on %s', (socketKind) => {
  it('answers an exception on the socket, not a hang', async () => {
    const store = new MemoryStore({ pruneInterval: 0 });
    const app = await startSocketApp('express', socketKind, { secret, store });
    try {
      const res = await request(app.app.getHttpServer()).post('/login').send({ user: 'dave' });
      const socket = await connectSocket(socketKind, app.port, { Cookie: cookieOf(res, 'sid') });
      store.set = (() => Promise.reject(new Error('store down'))) as typeof store.set;
      expect(await socket.request('add', 'apple')).toEqual({
        event: 'exception',
        data: { status: 'error', message: 'The session could not be saved' },
      });
      expect(socket.closed).toBe(false);
      socket.close();
    } finally {
      await app.close();
      store.close();
    }
  });
});
