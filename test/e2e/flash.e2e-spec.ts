/**
 * Flash messages over real HTTP, on the MemoryStore and a private Redis: passport's
 * `failureFlash` / `successFlash` through `req.flash` (no connect-flash), read-once across a
 * redirect with the typed Nest API, a session created by a flash, an emptied session not kept,
 * the clear error without a session, and `concurrency: 'merge'`.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Param,
  Post,
  Redirect,
  Req,
  RequestMethod,
} from '@nestjs/common';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Flash,
  type FlashBag,
  type FlashMessages,
  type RequestSession,
  Session,
  type SessionRequest,
} from '../../lib';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { type AppHarness, STORE_KINDS, bootFixture } from '../support/security-harness';
import { HTTP_ADAPTERS } from '../support/http-adapters';

const auth = new passport.Passport();
auth.use(
  new LocalStrategy((username, password, done) =>
    username === 'alice' && password === 'wonderland'
      ? done(null, { id: 'alice' })
      : done(null, false, { message: 'Wrong username or password' }),
  ),
);
auth.serializeUser((user, done) => done(null, (user as { id: string }).id));
auth.deserializeUser((id: string, done) => done(null, { id }));

type Data = Record<string, unknown>;

@Controller()
class FlashController {
  /** What the sign-in form would render: the errors passport flashed. */
  @Get('login')
  loginForm(@Req() req: SessionRequest) {
    return { errors: req.flash!('error') };
  }

  @Get('home')
  home(@Req() req: SessionRequest & { user?: unknown }) {
    return { success: req.flash!('success'), user: req.user ?? null };
  }

  @Post('notify/:count')
  @Redirect('/notices', 303)
  notify(@Flash() flash: FlashBag, @Param('count') count: string) {
    flash.add('info', 'Saved %d items', Number(count));
  }

  @Get('notices')
  notices(@Flash('info') info: FlashMessages['info'][]) {
    return { info };
  }

  @Post('raw')
  @HttpCode(200)
  raw(@Req() req: SessionRequest) {
    const flash = req.flash!.bind(req);
    const counts = [
      flash('info', 'one'),
      flash('info', ['two', 'three']),
      flash('error', '%s of %d', 'x', 2),
    ];
    return { counts, info: flash('info'), all: flash(), empty: flash() };
  }

  @Post('set/:key')
  async set(@Session() s: RequestSession, @Param('key') key: string) {
    await sleep(Math.floor(Math.random() * 10));
    (s as unknown as Data)[key] = true;
    return { ok: true };
  }

  @Post('flash-and-set/:key')
  async flashAndSet(
    @Session() s: RequestSession,
    @Flash() flash: FlashBag,
    @Param('key') key: string,
  ) {
    flash.add('info', 'hello');
    (s as unknown as Data)[key] = true;
    return { ok: true };
  }

  @Get('data')
  data(@Session() s: RequestSession) {
    const { cookie: _cookie, ...data } = s as unknown as Data;
    return data;
  }

  @Post('destroy-then-flash')
  async destroyThenFlash(@Req() req: SessionRequest) {
    await req.session!.destroy();
    try {
      req.flash!('info', 'too late');
      return { threw: false };
    } catch (err) {
      return { threw: true, message: (err as Error).message };
    }
  }
}

@Module({ controllers: [FlashController] })
class PassportFixtureModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(auth.initialize(), auth.session()).forRoutes('{*splat}');
    consumer
      .apply(
        auth.authenticate('local', {
          failureFlash: true,
          failureRedirect: '/login',
          successFlash: 'Welcome back!',
          successRedirect: '/home',
        }),
      )
      .forRoutes({ path: 'login', method: RequestMethod.POST });
  }
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('flash messages on %s', (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootFixture(kind, [], {}, { imports: [PassportFixtureModule] }, adapter);
    });
    afterAll(async () => {
      await h?.close();
    });

    const signIn = (password: string) =>
      request(h.url).post('/login').type('form').send({ username: 'alice', password });

    // passport.authenticate's failureRedirect/successRedirect call Express's res.redirect(),
    // which the raw Node response Nest middleware get on Fastify does not have: Express only.
    if (adapter === 'express')
      it("passport's failureFlash on a wrong password: shown once, and the session is not kept", async () => {
        const failed = await signIn('wrong').expect(302);
        expect(failed.headers.location).toBe('/login');
        // The flash created the session (saveUninitialized is false): it survives the redirect.
        const cookie = cookiePair(failed, h.name);
        const id = sessionIdOf(cookie);
        expect(await h.record(id)).toMatchObject({
          flash: { error: ['Wrong username or password'] },
        });

        const form = await request(h.url).get('/login').set('Cookie', cookie).expect(200);
        expect(form.body).toEqual({ errors: ['Wrong username or password'] });
        // It held nothing else: destroyed, and the browser told to drop the cookie.
        expect(await h.stored(id)).toBe(false);
        expect(setCookieFor(form, h.name)).toMatch(/Expires=Thu, 01 Jan 1970/);

        const again = await request(h.url).get('/login').set('Cookie', cookie).expect(200);
        expect(again.body).toEqual({ errors: [] });
        expect(setCookieFor(again, h.name)).toBeUndefined();
      });

    // passport.authenticate's failureRedirect/successRedirect call Express's res.redirect(),
    // which the raw Node response Nest middleware get on Fastify does not have: Express only.
    if (adapter === 'express')
      it("passport's successFlash survives the login's regenerate", async () => {
        const ok = await signIn('wonderland').expect(302);
        expect(ok.headers.location).toBe('/home');
        const cookie = cookiePair(ok, h.name);
        const home = await request(h.url).get('/home').set('Cookie', cookie).expect(200);
        expect(home.body).toEqual({ success: ['Welcome back!'], user: { id: 'alice' } });
        const id = sessionIdOf(cookie);
        const record = await h.record(id);
        expect(record).toMatchObject({ passport: { user: 'alice' } });
        expect(record).not.toHaveProperty('flash');
        const again = await request(h.url).get('/home').set('Cookie', cookie).expect(200);
        expect(again.body.success).toEqual([]);
      });

    it('read once across a redirect, with @Flash() and @Flash(type)', async () => {
      const posted = await request(h.url).post('/notify/3').expect(303);
      expect(posted.headers.location).toBe('/notices');
      const cookie = cookiePair(posted, h.name);
      const first = await request(h.url).get('/notices').set('Cookie', cookie).expect(200);
      expect(first.body).toEqual({ info: ['Saved 3 items'] });
      const second = await request(h.url).get('/notices').set('Cookie', cookie).expect(200);
      expect(second.body).toEqual({ info: [] });
    });

    it('reading with no session creates none', async () => {
      const before = await h.count();
      const res = await request(h.url).get('/notices').expect(200);
      expect(res.body).toEqual({ info: [] });
      expect(setCookieFor(res, h.name)).toBeUndefined();
      expect(await h.count()).toBe(before);
    });

    it("connect-flash's contract: counts, arrays, format, read by type, read all", async () => {
      const res = await request(h.url).post('/raw').expect(200);
      expect(res.body).toEqual({
        counts: [1, 3, 1],
        info: ['one', 'two', 'three'],
        all: { error: ['x of 2'] },
        empty: {},
      });
      // Everything was read in the same request: nothing stored, no cookie.
      expect(setCookieFor(res, h.name)).toBeUndefined();
    });

    it('a session holding other data keeps it when its messages are read', async () => {
      const start = await request(h.url).post('/flash-and-set/cart').expect(201);
      const cookie = cookiePair(start, h.name);
      const id = sessionIdOf(cookie);
      const read = await request(h.url).get('/notices').set('Cookie', cookie).expect(200);
      expect(read.body).toEqual({ info: ['hello'] });
      expect(setCookieFor(read, h.name)).toBeUndefined();
      const record = await h.record(id);
      expect(record).toMatchObject({ cart: true });
      expect(record).not.toHaveProperty('flash');
    });

    it('after destroy(), req.flash throws a clear error', async () => {
      const start = await request(h.url).post('/set/a').expect(201);
      const res = await request(h.url)
        .post('/destroy-then-flash')
        .set('Cookie', cookiePair(start, h.name))
        .expect(201);
      expect(res.body.threw).toBe(true);
      expect(res.body.message).toMatch(/req\.flash\(\) needs a session/);
    });
  });

  describe.each(STORE_KINDS)("flash messages with concurrency: 'merge' on %s", (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootFixture(kind, [FlashController], { concurrency: 'merge' }, {}, adapter);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('reading the messages while other requests write keeps every key and reads them once', async () => {
      const start = await request(h.url).post('/flash-and-set/base').expect(201);
      const cookie = cookiePair(start, h.name);
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      const [reads] = await Promise.all([
        request(h.url).get('/notices').set('Cookie', cookie),
        ...keys.map((k) => request(h.url).post(`/set/${k}`).set('Cookie', cookie)),
      ]);
      expect(reads.body).toEqual({ info: ['hello'] });
      const data = (await request(h.url).get('/data').set('Cookie', cookie).expect(200)).body;
      for (const k of ['base', ...keys]) expect(data[k]).toBe(true);
      expect(data).not.toHaveProperty('flash');
      const again = await request(h.url).get('/notices').set('Cookie', cookie).expect(200);
      expect(again.body).toEqual({ info: [] });
    });

    it('a message flashed while other requests write survives them', async () => {
      const start = await request(h.url).post('/set/base').expect(201);
      const cookie = cookiePair(start, h.name);
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      await Promise.all([
        request(h.url).post('/notify/7').set('Cookie', cookie),
        ...keys.map((k) => request(h.url).post(`/set/${k}`).set('Cookie', cookie)),
      ]);
      const read = await request(h.url).get('/notices').set('Cookie', cookie).expect(200);
      expect(read.body).toEqual({ info: ['Saved 7 items'] });
      const data = (await request(h.url).get('/data').set('Cookie', cookie).expect(200)).body;
      for (const k of ['base', ...keys]) expect(data[k]).toBe(true);
    });

    it('an emptied session is destroyed in merge mode too', async () => {
      const posted = await request(h.url).post('/notify/1').expect(303);
      const cookie = cookiePair(posted, h.name);
      const read = await request(h.url).get('/notices').set('Cookie', cookie).expect(200);
      expect(read.body).toEqual({ info: ['Saved 1 items'] });
      expect(await h.stored(sessionIdOf(cookie))).toBe(false);
    });
  });

  describe.each(STORE_KINDS)('flash messages with saveUninitialized: true on %s', (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootFixture(kind, [FlashController], { saveUninitialized: true }, {}, adapter);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('the emptied session is kept, as every empty session is', async () => {
      const posted = await request(h.url).post('/notify/2').expect(303);
      const cookie = cookiePair(posted, h.name);
      await request(h.url).get('/notices').set('Cookie', cookie).expect(200);
      const record = await h.record(sessionIdOf(cookie));
      expect(record).toBeDefined();
      expect(record).not.toHaveProperty('flash');
    });
  });
});
