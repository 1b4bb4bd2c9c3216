/**
 * The session id in a request header (`header: 'x-session-id'`), over real HTTP on the
 * MemoryStore and a private Redis: new, returning, regenerate, destroy, tampered and rotated
 * values, no `Set-Cookie` for header requests, no id echoed in a header to cookie requests,
 * strict writes, and CORS (Nest's `enableCors()` and the `cors` package, preflights included).
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  type INestApplication,
  Module,
  Param,
  Post,
  Req,
  ServiceUnavailableException,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  MemoryStore,
  RedisStore,
  type RequestSession,
  Session,
  SessionId,
  SessionModule,
  type SessionModuleOptions,
  type SessionRequest,
  type SessionStore,
} from '../../lib';
import {
  type AppHarness,
  STORE_KINDS,
  type StoreKind,
  bootFixture,
  randomSecret,
  signCookieValue,
  wellFormedId,
} from '../support/security-harness';
import { type RedisHandle, startRedis } from '../support/redis-server';
import { HTTP_ADAPTERS, createAppOn } from '../support/http-adapters';

const HEADER = 'x-session-id';

type Handler = (req: unknown, res: unknown, next: () => void) => void;
type CorsDelegate = (req: unknown, cb: (err: null, options: object) => void) => void;
/** The `cors` package (what Nest's `enableCors()` runs; it ships no types). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cors = require('cors') as (options?: object | CorsDelegate) => Handler;

type Data = Record<string, unknown>;

@Controller()
class HeaderController {
  @Post('set/:key/:value')
  set(@Session() s: RequestSession, @Param('key') key: string, @Param('value') value: string) {
    (s as unknown as Data)[key] = value;
    return { ok: true };
  }

  @Get('data')
  data(@Session() s: RequestSession, @SessionId() id: string) {
    const { cookie: _cookie, ...data } = s as unknown as Data;
    return { id, data };
  }

  @Post('regenerate')
  async regenerate(@Session() s: RequestSession) {
    await s.regenerate({ keep: ['user'] });
    return { ok: true };
  }

  @Post('destroy')
  async destroy(@Session() s: RequestSession) {
    await s.destroy();
    return { ok: true };
  }

  @Post('flash')
  flash(@Req() req: SessionRequest) {
    return { count: req.flash!('info', 'saved') };
  }

  @Get('flash')
  read(@Req() req: SessionRequest) {
    return { info: req.flash!('info') };
  }
}

/** The id a signed header value names (`s:<id>.<sig>`). */
function idOf(value: string): string {
  return value.slice(2, value.lastIndexOf('.'));
}

function headerOf(res: request.Response): string | undefined {
  return res.headers[HEADER] as string | undefined;
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('session id in a header on %s', (kind) => {
    let h: AppHarness;
    let other: AppHarness | undefined;
    beforeAll(async () => {
      h = await bootFixture(kind, [HeaderController], { header: 'X-Session-Id' }, {}, adapter);
    });
    afterAll(async () => {
      await h?.close();
      await other?.close();
    });

    /** A new session holding `user=alice`, through the header; returns its signed value. */
    async function newSession(): Promise<string> {
      const res = await request(h.url).post('/set/user/alice').set(HEADER, '').expect(201);
      expect(res.headers['set-cookie']).toBeUndefined();
      const value = headerOf(res);
      expect(value).toMatch(/^s:[A-Za-z0-9_-]{32}\.[A-Za-z0-9+/]+$/);
      return value as string;
    }

    it('new: an empty header gets the signed id back in the same header, never Set-Cookie', async () => {
      const value = await newSession();
      expect(value).toBe(signCookieValue(idOf(value), h.secret));
      expect(await h.record(idOf(value))).toMatchObject({ user: 'alice' });
    });

    it('new: an empty header on a request that stores nothing gets no id and no record', async () => {
      const before = await h.count();
      const res = await request(h.url).get('/data').set(HEADER, '').expect(200);
      expect(headerOf(res)).toBeUndefined();
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(await h.count()).toBe(before);
    });

    it('returning: the raw and the percent-encoded value both find the session', async () => {
      const value = await newSession();
      for (const sent of [value, encodeURIComponent(value)]) {
        const res = await request(h.url).get('/data').set(HEADER, sent).expect(200);
        expect(res.body).toEqual({ id: idOf(value), data: { user: 'alice' } });
        // Unchanged and no rolling: nothing is sent back, as no cookie would be.
        expect(headerOf(res)).toBeUndefined();
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      const changed = await request(h.url).post('/set/theme/dark').set(HEADER, value).expect(201);
      expect(headerOf(changed)).toBeUndefined();
      expect(await h.record(idOf(value))).toMatchObject({ user: 'alice', theme: 'dark' });
    });

    it('regenerate: the new id comes back in the header, the old one is gone', async () => {
      const value = await newSession();
      const res = await request(h.url).post('/regenerate').set(HEADER, value).expect(201);
      const next = headerOf(res) as string;
      expect(idOf(next)).not.toBe(idOf(value));
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(await h.stored(idOf(value))).toBe(false);
      const data = await request(h.url).get('/data').set(HEADER, next).expect(200);
      expect(data.body.data).toEqual({ user: 'alice' });
    });

    it('destroy: the header comes back empty and the session is gone', async () => {
      const value = await newSession();
      const res = await request(h.url).post('/destroy').set(HEADER, value).expect(201);
      expect(headerOf(res)).toBe('');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(await h.stored(idOf(value))).toBe(false);
    });

    it('flash: a message creates the session; reading the last one ends it, the header sent empty', async () => {
      const flashed = await request(h.url).post('/flash').set(HEADER, '').expect(201);
      const value = headerOf(flashed) as string;
      expect(value).toMatch(/^s:/);
      const read = await request(h.url).get('/flash').set(HEADER, value).expect(200);
      expect(read.body).toEqual({ info: ['saved'] });
      expect(headerOf(read)).toBe('');
      expect(read.headers['set-cookie']).toBeUndefined();
      expect(await h.stored(idOf(value))).toBe(false);
    });

    it.each([
      ['a changed signature', (v: string) => v.slice(0, -2) + (v.endsWith('AA') ? 'BB' : 'AA')],
      ['another secret', (v: string) => signCookieValue(idOf(v), randomSecret())],
      ['an unsigned id', (v: string) => idOf(v)],
      ['a never-issued id signed with the secret', () => signCookieValue(wellFormedId(), h.secret)],
    ])('tampered (%s): a fresh session, the stored one untouched', async (_, tamper) => {
      const value = await newSession();
      const res = await request(h.url).get('/data').set(HEADER, tamper(value)).expect(200);
      expect(res.body.data).toEqual({});
      expect(res.body.id).not.toBe(idOf(value));
      const write = await request(h.url).post('/set/x/1').set(HEADER, tamper(value)).expect(201);
      expect(idOf(headerOf(write) as string)).not.toBe(idOf(value));
      expect(await h.record(idOf(value))).toMatchObject({ user: 'alice' });
    });

    it('a cookie request never gets the id in a header, even with rolling', async () => {
      other = await bootFixture(
        kind,
        [HeaderController],
        {
          header: HEADER,
          rolling: true,
          cookie: { maxAge: 60_000 },
        },
        {},
        adapter,
      );
      const res = await request(other.url).post('/set/user/bob').expect(201);
      expect(headerOf(res)).toBeUndefined();
      const cookie = String(res.headers['set-cookie']).split(';')[0] as string;
      const again = await request(other.url).get('/data').set('Cookie', cookie).expect(200);
      expect(again.body.data).toEqual({ user: 'bob' });
      expect(again.headers['set-cookie']).toBeDefined(); // rolling
      expect(headerOf(again)).toBeUndefined();
      // With rolling, a header request gets its id back on every response instead.
      const created = await request(other.url).post('/set/user/carol').set(HEADER, '').expect(201);
      const value = headerOf(created) as string;
      const rolled = await request(other.url).get('/data').set(HEADER, value).expect(200);
      expect(headerOf(rolled)).toBe(value);
      expect(rolled.headers['set-cookie']).toBeUndefined();
      await other.close();
      other = undefined;
    });

    it('a request carrying both uses the header and gets no Set-Cookie', async () => {
      const fromCookie = await request(h.url).post('/set/user/dave').expect(201);
      const cookie = String(fromCookie.headers['set-cookie']).split(';')[0] as string;
      const value = await newSession();
      const res = await request(h.url)
        .post('/set/seen/1')
        .set('Cookie', cookie)
        .set(HEADER, value)
        .expect(201);
      expect(res.headers['set-cookie']).toBeUndefined();
      const data = await request(h.url).get('/data').set(HEADER, value).expect(200);
      expect(data.body.data).toEqual({ user: 'alice', seen: '1' });
      const viaCookie = await request(h.url).get('/data').set('Cookie', cookie).expect(200);
      expect(viaCookie.body.data).toEqual({ user: 'dave' });
    });

    it('rotated secret: an id signed with an older secret is accepted and re-signed', async () => {
      const oldSecret = randomSecret();
      const newSecret = randomSecret();
      other = await bootFixture(
        kind,
        [HeaderController],
        { header: HEADER, secret: oldSecret },
        {},
        adapter,
      );
      const created = await request(other.url).post('/set/user/erin').set(HEADER, '').expect(201);
      const value = headerOf(created) as string;
      const id = idOf(value);
      // The same store, now behind [new, old].
      const rotated = await bootWith(kind, { secret: [newSecret, oldSecret], store: other.store });
      try {
        const res = await request(rotated.url).get('/data').set(HEADER, value).expect(200);
        expect(res.body.data).toEqual({ user: 'erin' });
        expect(headerOf(res)).toBe(signCookieValue(id, newSecret));
        expect(res.headers['set-cookie']).toBeUndefined();
        const again = await request(rotated.url)
          .get('/data')
          .set(HEADER, headerOf(res) as string)
          .expect(200);
        expect(headerOf(again)).toBeUndefined();
      } finally {
        await rotated.close();
      }
      await other.close();
      other = undefined;
    });
  });

  /** A fixture app on `options.store` (or a fresh store of `kind`), with `setup` before listen. */
  async function bootWith(
    kind: StoreKind,
    options: Partial<SessionModuleOptions> & { store?: SessionStore },
    setup?: (app: INestApplication) => void,
  ): Promise<AppHarness> {
    let redis: RedisHandle | undefined;
    let store = options.store;
    if (!store) {
      if (kind === 'memory') store = new MemoryStore({ pruneInterval: 0 });
      else {
        redis = await startRedis({ requirePrivate: true });
        store = new RedisStore({ client: redis.client(), prefix: redis.prefix });
      }
    }
    const secret = options.secret ?? randomSecret();
    @Module({
      imports: [SessionModule.forRoot({ header: HEADER, ...options, secret, store })],
      controllers: [HeaderController],
    })
    class FixtureModule {}
    const moduleRef = await Test.createTestingModule({ imports: [FixtureModule] }).compile();
    const app = createAppOn(moduleRef, adapter);
    setup?.(app);
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as { port: number }).port;
    const owned = !options.store;
    return {
      app,
      url: `http://127.0.0.1:${port}`,
      store,
      close: async () => {
        await app.close();
        if (owned) await store.close?.();
        await redis?.stop();
      },
    } as unknown as AppHarness;
  }

  describe.each(STORE_KINDS)('session header and CORS on %s', (kind) => {
    const ORIGIN = 'https://app.example';
    const apps: AppHarness[] = [];
    let base: AppHarness;
    let store: SessionStore;
    beforeAll(async () => {
      base = await bootWith(kind, {});
      store = base.store;
    });
    afterAll(async () => {
      for (const app of apps) await app.close();
      await base?.close();
    });

    const setups: [string, (app: INestApplication) => void][] = [
      ['enableCors() with its defaults', (app) => app.enableCors()],
      [
        'enableCors() restricted to other headers',
        (app) =>
          app.enableCors({
            origin: ORIGIN,
            credentials: true,
            allowedHeaders: ['content-type'],
            exposedHeaders: ['x-request-id'],
          }),
      ],
      [
        'the cors package, a delegate',
        (app) => app.use(cors((_req, cb) => cb(null, { origin: true }))),
      ],
    ];

    it.each(setups)(
      '%s: the preflight accepts the header, responses expose it',
      async (_, setup) => {
        const h = await bootWith(kind, { store }, setup);
        apps.push(h);
        const preflight = await request(h.url)
          .options('/set/user/alice')
          .set('Origin', ORIGIN)
          .set('Access-Control-Request-Method', 'POST')
          .set('Access-Control-Request-Headers', `${HEADER}, content-type`);
        expect(preflight.status).toBe(204);
        const allowed = String(preflight.headers['access-control-allow-headers']).toLowerCase();
        expect(allowed.split(/\s*,\s*/)).toContain(HEADER);
        expect(preflight.headers['set-cookie']).toBeUndefined();

        const res = await request(h.url)
          .post('/set/user/alice')
          .set('Origin', ORIGIN)
          .set(HEADER, '');
        expect(res.status).toBe(201);
        const exposed = String(res.headers['access-control-expose-headers']).toLowerCase();
        expect(exposed.split(/\s*,\s*/)).toContain(HEADER);
        expect(headerOf(res)).toMatch(/^s:/);
      },
    );

    it('without CORS, no Access-Control header is added', async () => {
      const h = base;
      const res = await request(h.url)
        .post('/set/user/alice')
        .set('Origin', ORIGIN)
        .set(HEADER, '');
      expect(res.headers['access-control-expose-headers']).toBeUndefined();
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await request(h.url)
        .options('/set/user/alice')
        .set('Origin', ORIGIN)
        .set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-headers']).toBeUndefined();
    });

    it('a refused origin gets nothing added', async () => {
      const h = await bootWith(kind, { store }, (app) => app.enableCors({ origin: [ORIGIN] }));
      apps.push(h);
      const res = await request(h.url)
        .options('/set/user/alice')
        .set('Origin', 'https://evil.example')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', HEADER);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-expose-headers']).toBeUndefined();
    });
  });

  describe('session header with strict writes', () => {
    it('a failed write answers 503 and takes the id back out of the header', async () => {
      const store = new MemoryStore({ pruneInterval: 0 });
      const h = await bootWith('memory', { store });
      try {
        const set = store.set.bind(store);
        store.set = (() =>
          Promise.reject(new ServiceUnavailableException('down'))) as unknown as typeof store.set;
        const res = await request(h.url).post('/set/user/alice').set(HEADER, '');
        expect(res.status).toBe(503);
        expect(headerOf(res)).toBeUndefined();
        store.set = set;
        const ok = await request(h.url).post('/set/user/alice').set(HEADER, '').expect(201);
        expect(headerOf(ok)).toMatch(/^s:/);
      } finally {
        await h.close();
        await store.close();
      }
    });
  });
});
