/**
 * The framework-free loader of a socket's session (`loadSocketSession`), on a real upgrade
 * request to a real Nest application (Express and Fastify), on MemoryStore and a private Redis:
 * read only (nothing created, no Set-Cookie), cookie and header ids, tampered and destroyed
 * sessions, `SessionGuard`'s "existing session" mark, change detection on commit (merge too),
 * `reload()` as the new baseline, and a store failure.
 */
import 'reflect-metadata';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Controller, Get, type INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  MemoryStore,
  RedisStore,
  type RequestSession,
  Session,
  SessionModule,
  type SessionModuleOptions,
  type SessionStore,
} from '../../lib';
import { loadSocketSession } from '../../lib/engine/lifecycle/socket-session';
import type { SessionEngine } from '../../lib/engine/lifecycle/session-engine';
import { requestState } from '../../lib/engine/request-state';
import { SESSION_ENGINE } from '../../lib/nest/session.constants';
import { cookie as cookieOf } from '../support/express-helpers';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';
import { type RedisHandle, startRedis } from '../support/redis-server';

const secret = 'websocket-handshake-secret-long-enough-1';
const HEADER = 'x-session-id';
type Data = Record<string, unknown>;

@Controller()
class AppController {
  @Post('login') login(@Session() s: RequestSession) {
    (s as unknown as Data).user = 'alice';
    (s as unknown as Data).visits = 0;
    return { ok: true };
  }
  @Post('logout') async logout(@Session() s: RequestSession) {
    await s.destroy();
    return { ok: true };
  }
  @Post('note') note(@Session() s: RequestSession) {
    (s as unknown as Data).note = 'from http';
    return { ok: true };
  }
  @Get('me') me(@Session() s: RequestSession) {
    const { cookie: _cookie, ...data } = s as unknown as Data;
    return data;
  }
}

/** What the probe answers about the upgrade request's session. */
interface Probe {
  exists: boolean;
  id: string | null;
  data: Data | null;
  loadedFromStore: boolean;
  committed?: boolean;
  error?: string;
}

/** Answers an upgrade request with a plain HTTP response (the client sees it as a response). */
function answer(socket: Duplex, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}

/** The probe: loads the session of the upgrade request, then does `?op=` with it. */
function installProbe(app: INestApplication): void {
  const engine = app.get<SessionEngine<unknown>>(SESSION_ENGINE);
  const server = app.getHttpServer() as import('node:http').Server;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const op = new URL(req.url ?? '/', 'http://x').searchParams.get('op');
    void (async () => {
      try {
        const state = await loadSocketSession(engine, req);
        const session = state.req.session as (RequestSession & Data) | undefined;
        let committed: boolean | undefined;
        if (op === 'write' && session) {
          session.visits = Number(session.visits ?? 0) + 1;
          committed = await state.commit();
        } else if (op === 'noop') committed = await state.commit();
        else if (op === 'reload' && session) {
          await session.reload();
          committed = await state.commit();
        }
        const now = state.req.session as (RequestSession & Data) | undefined;
        const data: Data | null = now ? { ...now } : null;
        if (data) delete data.cookie;
        const marked = requestState<{ loadedFromStore: boolean }>(state.req);
        answer(socket, 200, {
          exists: state.exists,
          id: state.req.sessionID ?? null,
          data,
          loadedFromStore: marked?.loadedFromStore === true,
          committed,
        } satisfies Probe);
      } catch (err) {
        answer(socket, 200, { error: (err as Error).message });
      }
    })();
  });
}

/** Sends an upgrade request with these headers; resolves the probe's answer and its headers. */
function upgrade(
  port: number,
  headers: Record<string, string>,
  op = 'read',
): Promise<{ probe: Probe; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path: `/socket?op=${op}`,
      headers: { Connection: 'Upgrade', Upgrade: 'probe', ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ probe: JSON.parse(body) as Probe, headers: res.headers }));
    });
    req.on('upgrade', () => reject(new Error('unexpected 101')));
    req.on('error', reject);
    req.end();
  });
}

type Kind = 'memory' | 'redis';

describe.each<Kind>(['memory', 'redis'])('socket session loader on %s', (kind) => {
  let redis: RedisHandle | undefined;
  beforeAll(async () => {
    if (kind === 'redis') redis = await startRedis();
  }, 60_000);
  afterAll(() => redis?.stop());

  describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
    let app: INestApplication;
    let store: SessionStore;
    let port: number;
    let saves = 0;

    async function boot(extra: Partial<SessionModuleOptions> = {}): Promise<void> {
      store =
        kind === 'memory'
          ? new MemoryStore({ pruneInterval: 0 })
          : new RedisStore({
              client: (redis as RedisHandle).client(),
              prefix: `${(redis as RedisHandle).prefix}${adapter}:${Math.random()}:`,
            });
      @Module({
        imports: [
          SessionModule.forRoot({
            secret,
            store,
            header: HEADER,
            events: { saved: () => void saves++ },
            ...extra,
          }),
        ],
        controllers: [AppController],
      })
      class AppModule {}
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      app = createAppOn(moduleRef, adapter);
      installProbe(app);
      await initApp(app);
      await app.listen(0, '127.0.0.1');
      port = (app.getHttpServer().address() as AddressInfo).port;
    }

    async function login(): Promise<string> {
      const res = await request(app.getHttpServer()).post('/login').expect(201);
      return cookieOf(res, 'sid');
    }

    afterEach(async () => {
      await app?.close();
      await store?.close?.();
    });

    it('reads an existing session from the cookie, marked as loaded from the store', async () => {
      await boot();
      const cookie = await login();
      const { probe, headers } = await upgrade(port, { Cookie: cookie });
      expect(probe).toMatchObject({ exists: true, loadedFromStore: true });
      expect(probe.data).toEqual({ user: 'alice', visits: 0 });
      expect(headers['set-cookie']).toBeUndefined();
    });

    it('creates nothing for a request without a session, and sends no cookie', async () => {
      await boot();
      saves = 0;
      const { probe, headers } = await upgrade(port, {});
      expect(probe).toEqual({ exists: false, id: null, data: null, loadedFromStore: false });
      expect(headers['set-cookie']).toBeUndefined();
      const write = await upgrade(port, {}, 'noop');
      expect(write.probe.committed).toBe(true);
      expect(saves).toBe(0);
      expect(await store.length?.()).toBe(0);
    });

    it('ignores a tampered cookie and the cookie of a destroyed session', async () => {
      await boot();
      const cookie = await login();
      const tampered = cookie.slice(0, -3) + (cookie.endsWith('abc') ? 'xyz' : 'abc');
      expect((await upgrade(port, { Cookie: tampered })).probe.exists).toBe(false);
      await request(app.getHttpServer()).post('/logout').set('Cookie', cookie).expect(201);
      const { probe } = await upgrade(port, { Cookie: cookie });
      expect(probe).toEqual({ exists: false, id: null, data: null, loadedFromStore: false });
    });

    it('reads the id from the session header when the request carries it', async () => {
      await boot();
      const res = await request(app.getHttpServer()).post('/login').set(HEADER, '').expect(201);
      const signed = res.headers[HEADER] as string;
      expect(signed).toMatch(/^s:/);
      const { probe } = await upgrade(port, { [HEADER]: signed });
      expect(probe.exists).toBe(true);
      expect(probe.data).toEqual({ user: 'alice', visits: 0 });
    });

    it('saves on commit only what changed, and takes a reload as the new baseline', async () => {
      await boot();
      const cookie = await login();
      saves = 0;
      expect((await upgrade(port, { Cookie: cookie }, 'noop')).probe.committed).toBe(true);
      expect(saves).toBe(0);
      expect((await upgrade(port, { Cookie: cookie }, 'write')).probe.committed).toBe(true);
      expect(saves).toBe(1);
      const me = await request(app.getHttpServer()).get('/me').set('Cookie', cookie).expect(200);
      expect(me.body).toEqual({ user: 'alice', visits: 1 });
      await request(app.getHttpServer()).post('/note').set('Cookie', cookie).expect(201);
      saves = 0;
      const reloaded = await upgrade(port, { Cookie: cookie }, 'reload');
      expect(reloaded.probe.data).toEqual({ user: 'alice', visits: 1, note: 'from http' });
      expect(saves).toBe(0);
    });

    it('with concurrency: merge, a commit patches only its own keys', async () => {
      await boot({ concurrency: 'merge' });
      const cookie = await login();
      // The socket loads the session, then an HTTP request changes another key meanwhile.
      const engine = app.get<SessionEngine<unknown>>(SESSION_ENGINE);
      const fake = { headers: { cookie }, url: '/socket' } as unknown as IncomingMessage;
      const state = await loadSocketSession(engine, fake);
      await request(app.getHttpServer()).post('/note').set('Cookie', cookie).expect(201);
      (state.req.session as unknown as Data).visits = 5;
      expect(await state.commit()).toBe(true);
      const me = await request(app.getHttpServer()).get('/me').set('Cookie', cookie).expect(200);
      expect(me.body).toEqual({ user: 'alice', visits: 5, note: 'from http' });
    });

    it('a commit after the session was destroyed elsewhere says so and writes nothing', async () => {
      await boot();
      const cookie = await login();
      const engine = app.get<SessionEngine<unknown>>(SESSION_ENGINE);
      const fake = { headers: { cookie }, url: '/socket' } as unknown as IncomingMessage;
      const state = await loadSocketSession(engine, fake);
      expect(state.exists).toBe(true);
      await request(app.getHttpServer()).post('/logout').set('Cookie', cookie).expect(201);
      (state.req.session as unknown as Data).visits = 9;
      expect(await state.commit()).toBe(false);
      expect(state.exists).toBe(false);
      expect(await store.length?.()).toBe(0);
    });
  });
});

describe('socket session loader with a failing store', () => {
  it('rejects with the store error rather than answering no session', async () => {
    const store = new MemoryStore({ pruneInterval: 0 });
    let down = false;
    const get = store.get.bind(store) as (sid: string) => Promise<unknown>;
    store.get = ((sid: string) =>
      down ? Promise.reject(new Error('store down')) : get(sid)) as typeof store.get;
    @Module({
      imports: [SessionModule.forRoot({ secret, store, readRetries: 0 })],
      controllers: [AppController],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = createAppOn(moduleRef, 'express');
    installProbe(app);
    await initApp(app);
    await app.listen(0, '127.0.0.1');
    try {
      const port = (app.getHttpServer().address() as AddressInfo).port;
      const cookie = cookieOf(await request(app.getHttpServer()).post('/login').expect(201), 'sid');
      down = true;
      const { probe } = await upgrade(port, { Cookie: cookie });
      expect(probe).toEqual({ error: 'store down' });
    } finally {
      await app.close();
      store.close();
    }
  });
});
