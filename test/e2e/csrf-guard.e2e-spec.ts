/**
 * CsrfGuard, @CsrfToken() and @SkipCsrf() over real HTTP, on Express and Fastify, on the
 * MemoryStore and a private Redis: the secret created only when a token is asked for, tokens in
 * a form field (urlencoded: Nest's Fastify adapter parses forms itself), a JSON field or the
 * header, 403 (never 500) for missing, foreign, tampered and garbage tokens with the session left
 * as it was, the header transport exempt, rotation on regenerate (`keep` included).
 */
import 'reflect-metadata';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Patch,
  Post,
  Put,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import request, { type Response } from 'supertest';
import {
  CSRF_SECRET_KEY,
  CsrfGuard,
  CsrfToken,
  type RequestSession,
  Session,
  type SessionRequest,
  SkipCsrf,
} from '../../lib';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { type AppHarness, STORE_KINDS, bootFixture } from '../support/security-harness';
import { HTTP_ADAPTERS } from '../support/http-adapters';

type Data = Record<string, unknown>;

@Controller('f')
@UseGuards(CsrfGuard)
export class CsrfFormsController {
  @Get('token')
  token(@CsrfToken() csrf: string) {
    return { csrf };
  }

  /** A guarded GET that asks for no token. */
  @Get('page')
  page() {
    return { ok: true };
  }

  @Post('act')
  @HttpCode(200)
  post(@Session() s: RequestSession) {
    return act(s);
  }

  @Put('act')
  put(@Session() s: RequestSession) {
    return act(s);
  }

  @Patch('act')
  patch(@Session() s: RequestSession) {
    return act(s);
  }

  @Delete('act')
  remove(@Session() s: RequestSession) {
    return act(s);
  }

  @Post('cart')
  @HttpCode(200)
  cart(@Session() s: RequestSession, @Body() body: { item?: string }) {
    (s as unknown as Data).cart = [body.item];
    return { ok: true };
  }

  /** Sign-in: a new session id; `?keep=1` asks to keep the cart and (in vain) the CSRF secret. */
  @Post('login')
  @HttpCode(200)
  async login(@Session() s: RequestSession, @Query('keep') keep?: string) {
    await s.regenerate(keep ? { keep: [CSRF_SECRET_KEY, 'cart'] } : undefined);
    return { ok: true };
  }

  /** Sign-in that copies every old key over afterwards, as passport's `keepSessionInfo` does. */
  @Post('login-copy')
  @HttpCode(200)
  async loginCopy(@Req() req: SessionRequest) {
    const old = { ...(req.session as unknown as Data) };
    delete old.cookie;
    await req.session!.regenerate();
    Object.assign(req.session!, old);
    return { ok: true };
  }

  @Post('hook')
  @HttpCode(200)
  @SkipCsrf()
  hook() {
    return { skipped: true };
  }
}

@Controller('public')
@UseGuards(CsrfGuard)
@SkipCsrf()
export class SkippedController {
  @Post()
  @HttpCode(200)
  post() {
    return { skipped: true };
  }
}

function act(s: RequestSession): { acted: number } {
  const data = s as unknown as Data;
  data.acted = Number(data.acted ?? 0) + 1;
  return { acted: data.acted as number };
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('CsrfGuard on %s', (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootFixture(
        kind,
        [CsrfFormsController, SkippedController],
        { header: 'x-session-id' },
        {},
        adapter,
      );
    });
    afterAll(async () => {
      await h?.close();
    });

    /** A session with a secret: its cookie and one token. */
    async function visit(): Promise<{ cookie: string; id: string; csrf: string }> {
      const res = await request(h.url).get('/f/token').expect(200);
      const cookie = cookiePair(res, h.name);
      return { cookie, id: sessionIdOf(cookie), csrf: res.body.csrf as string };
    }

    const post = (path: string, cookie?: string) => {
      const req = request(h.url).post(path);
      return cookie ? req.set('Cookie', cookie) : req;
    };

    function expect403(res: Response, reason: RegExp): void {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      expect(res.body.message).toMatch(reason);
      expect(setCookieFor(res, h.name)).toBeUndefined();
    }

    it('a guarded GET that asks for no token creates no session; asking creates the secret', async () => {
      const before = await h.count();
      const page = await request(h.url).get('/f/page').expect(200);
      expect(setCookieFor(page, h.name)).toBeUndefined();
      expect(await h.count()).toBe(before);

      const { id, csrf } = await visit();
      expect(csrf).toMatch(/^[A-Za-z0-9_-]{64}$/);
      const secret = (await h.record(id))?.[CSRF_SECRET_KEY];
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(csrf).not.toContain(secret);
    });

    it('a POST without a session is refused (403) and creates nothing', async () => {
      const before = await h.count();
      expect403(await post('/f/act').expect(403), /CSRF token missing/);
      const fake = (await visit()).csrf; // a real token, but of another session
      expect403(await post('/f/act').type('form').send({ _csrf: fake }), /CSRF token invalid/);
      expect(await h.count()).toBe(before + 1); // only visit()'s session
    });

    it('accepts the token in a form field, a JSON field and the header; two tokens differ, both verify', async () => {
      const { cookie, id } = await visit();
      const a = (await request(h.url).get('/f/token').set('Cookie', cookie)).body.csrf as string;
      const b = (await request(h.url).get('/f/token').set('Cookie', cookie)).body.csrf as string;
      expect(a).not.toBe(b);
      await post('/f/act', cookie).type('form').send({ _csrf: a }).expect(200, { acted: 1 });
      await post('/f/act', cookie).send({ _csrf: b }).expect(200, { acted: 2 });
      await post('/f/act', cookie).set('X-CSRF-Token', a).expect(200, { acted: 3 });
      // A token is reusable for the session's lifetime (not one-shot: several tabs keep working).
      await post('/f/act', cookie).type('form').send({ _csrf: a }).expect(200, { acted: 4 });
      expect(await h.record(id)).toMatchObject({ acted: 4 });
    });

    it('checks PUT, PATCH and DELETE too', async () => {
      const { cookie, csrf } = await visit();
      for (const method of ['put', 'patch', 'delete'] as const) {
        const bare = await request(h.url)[method]('/f/act').set('Cookie', cookie);
        expect403(bare, /CSRF token missing/);
        await request(h.url)
          [method]('/f/act')
          .set('Cookie', cookie)
          .set('x-csrf-token', csrf)
          .expect(200);
      }
    });

    it('missing, foreign, tampered, short and garbage tokens: 403, never 500, session unchanged', async () => {
      const { cookie, id, csrf } = await visit();
      await post('/f/act', cookie).set('x-csrf-token', csrf).expect(200, { acted: 1 });
      const stored = await h.record(id);
      const foreign = (await visit()).csrf;
      // One character changed (in the salt, so the MAC no longer matches).
      const flipped = csrf.slice(0, 10) + (csrf[10] === 'A' ? 'B' : 'A') + csrf.slice(11);
      const forms: Data[] = [
        {},
        { _csrf: '' },
        { _csrf: foreign },
        { _csrf: flipped },
        { _csrf: csrf.slice(0, 40) },
        { _csrf: 'garbage' },
        { _csrf: 'x'.repeat(10_000) },
        { _csrf: [csrf, csrf] }, // the field twice
      ];
      for (const form of forms) {
        const res = await post('/f/act', cookie).type('form').send(form);
        expect403(res, Object.keys(form).length === 0 ? /missing/ : /invalid/);
      }
      for (const json of [{ _csrf: 42 }, { _csrf: null }, { _csrf: { csrf } }, { _csrf: [csrf] }]) {
        expect403(await post('/f/act', cookie).send(json), /invalid/);
      }
      // The header sent twice: Node hands it over joined (`a, b`).
      expect403(await post('/f/act', cookie).set('x-csrf-token', `${csrf}, ${csrf}`), /invalid/);
      expect403(await post('/f/act', cookie).set('x-csrf-token', foreign), /invalid/);
      // The header wins over the field: a bad header is not rescued by a good field.
      const both = await post('/f/act', cookie)
        .set('x-csrf-token', 'nope')
        .type('form')
        .send({ _csrf: csrf });
      expect403(both, /invalid/);
      expect(await h.record(id)).toEqual(stored);
    });

    it('@SkipCsrf() on a handler and on a controller lets the request through', async () => {
      await post('/f/hook').expect(200, { skipped: true });
      await post('/public').expect(200, { skipped: true });
    });

    it('requests carrying the session in the header option are exempt; the same session by cookie is not', async () => {
      const created = await post('/f/act').set('x-session-id', '').expect(200, { acted: 1 });
      const signed = created.headers['x-session-id'] as string;
      expect(signed).toMatch(/^s:/);
      await post('/f/act').set('x-session-id', signed).expect(200, { acted: 2 });
      // The same session through the cookie (what a browser would attach to a forged form).
      const cookie = `${h.name}=${encodeURIComponent(signed)}`;
      expect403(await post('/f/act', cookie), /missing/);
      expect(await h.record(signed.slice(2, signed.lastIndexOf('.')))).toMatchObject({
        acted: 2,
      });
    });

    it('regenerate (sign-in) rotates the secret: a token from before is refused after', async () => {
      const { cookie, id, csrf } = await visit();
      const login = await post('/f/login', cookie).set('x-csrf-token', csrf).expect(200);
      const next = cookiePair(login, h.name);
      expect(sessionIdOf(next)).not.toBe(id);
      expect(await h.record(sessionIdOf(next))).not.toHaveProperty(CSRF_SECRET_KEY);
      expect403(await post('/f/act', next).set('x-csrf-token', csrf), /invalid/);
      const fresh = (await request(h.url).get('/f/token').set('Cookie', next)).body.csrf as string;
      await post('/f/act', next).set('x-csrf-token', fresh).expect(200, { acted: 1 });
    });

    it('a token from before sign-in is refused even when the old data (secret included) is copied over', async () => {
      const { cookie, id, csrf } = await visit();
      const oldSecret = (await h.record(id))?.[CSRF_SECRET_KEY];
      const login = await post('/f/login-copy', cookie).set('x-csrf-token', csrf).expect(200);
      const next = cookiePair(login, h.name);
      expect((await h.record(sessionIdOf(next)))?.[CSRF_SECRET_KEY]).toBe(oldSecret);
      // Bound to the old session id: refused, though the secret is the same.
      expect403(await post('/f/act', next).set('x-csrf-token', csrf), /invalid/);
      const fresh = (await request(h.url).get('/f/token').set('Cookie', next)).body.csrf as string;
      await post('/f/act', next).set('x-csrf-token', fresh).expect(200, { acted: 1 });
    });

    it('regenerate({ keep: [csrfSecret, ...] }) keeps the other keys, never the secret', async () => {
      const { cookie, id, csrf } = await visit();
      await post('/f/cart', cookie).set('x-csrf-token', csrf).send({ item: 'tea' }).expect(200);
      const oldSecret = (await h.record(id))?.[CSRF_SECRET_KEY];
      const login = await post('/f/login?keep=1', cookie).set('x-csrf-token', csrf).expect(200);
      const next = cookiePair(login, h.name);
      const record = await h.record(sessionIdOf(next));
      expect(record).toMatchObject({ cart: ['tea'] });
      expect(record).not.toHaveProperty(CSRF_SECRET_KEY);
      expect403(await post('/f/act', next).set('x-csrf-token', csrf), /invalid/);
      await request(h.url).get('/f/token').set('Cookie', next).expect(200);
      const newSecret = (await h.record(sessionIdOf(next)))?.[CSRF_SECRET_KEY];
      expect(newSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(newSecret).not.toBe(oldSecret);
    });
  });
});
