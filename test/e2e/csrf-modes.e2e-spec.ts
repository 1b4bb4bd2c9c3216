/**
 * CsrfGuard with the module's other modes, over real HTTP on Express and Fastify, MemoryStore and
 * a private Redis: as a global guard (APP_GUARD) with custom `csrf` options, under
 * `concurrency: 'merge'` (concurrent writes keep the secret and each other's keys), with
 * `encryption` (the secret is sealed with the rest of the data), and a bad `csrf` option failing
 * the boot with a message naming it.
 */
import 'reflect-metadata';
import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  CSRF_SECRET_KEY,
  CsrfGuard,
  CsrfToken,
  type RequestSession,
  Session,
  SessionOptionsError,
  SkipCsrf,
} from '../../lib';
import { cookiePair, sessionIdOf } from './fixtures/cookies';
import {
  type AppHarness,
  STORE_KINDS,
  bootError,
  bootFixture,
  randomSecret,
} from '../support/security-harness';
import { HTTP_ADAPTERS } from '../support/http-adapters';

type Data = Record<string, unknown>;

@Controller('g')
export class GlobalCsrfController {
  @Get('token')
  token(@CsrfToken() csrf: string) {
    return { csrf };
  }

  @Post('set/:key')
  @HttpCode(200)
  set(@Session() s: RequestSession, @Param('key') key: string) {
    (s as unknown as Data)[key] = true;
    return { ok: true };
  }

  /** Exempt even under the global guard. */
  @Post('public')
  @HttpCode(200)
  @SkipCsrf()
  open() {
    return { ok: true };
  }
}

const globalGuard = { providers: [{ provide: APP_GUARD, useClass: CsrfGuard }] };

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('global CsrfGuard, custom options, merge mode, on %s', (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootFixture(
        kind,
        [GlobalCsrfController],
        {
          concurrency: 'merge',
          csrf: { field: 'authenticity_token', header: 'X-XSRF-Token' },
        },
        globalGuard,
        adapter,
      );
    });
    afterAll(async () => {
      await h?.close();
    });

    it('guards every route; the token is read from the configured field and header only', async () => {
      const res = await request(h.url).get('/g/token').expect(200);
      const cookie = cookiePair(res, h.name);
      const csrf = res.body.csrf as string;
      const post = () => request(h.url).post('/g/set/a').set('Cookie', cookie);
      const missing = await post().set('x-csrf-token', csrf).type('form').send({ _csrf: csrf });
      expect(missing.status).toBe(403);
      expect(missing.body.message).toBe(
        'CSRF token missing: send the session\'s token in the "authenticity_token" field or the "x-xsrf-token" header',
      );
      await post().set('x-xsrf-token', csrf).expect(200);
      await post().type('form').send({ authenticity_token: csrf }).expect(200);
      await request(h.url).post('/g/public').expect(200);
    });

    it('merge mode: 20 concurrent writes with tokens all land, and the secret stays', async () => {
      const res = await request(h.url).get('/g/token').expect(200);
      const cookie = cookiePair(res, h.name);
      const id = sessionIdOf(cookie);
      const secret = (await h.record(id))?.[CSRF_SECRET_KEY];
      const tokens = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const page = await request(h.url).get('/g/token').set('Cookie', cookie).expect(200);
          return page.body.csrf as string;
        }),
      );
      expect(new Set(tokens).size).toBe(20);
      const answers = await Promise.all(
        tokens.map((csrf, i) =>
          request(h.url).post(`/g/set/k${i}`).set('Cookie', cookie).set('x-xsrf-token', csrf),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(tokens.map(() => 200));
      const record = await h.record(id);
      expect(record?.[CSRF_SECRET_KEY]).toBe(secret);
      for (let i = 0; i < 20; i++) expect(record).toHaveProperty(`k${i}`, true);
    });
  });

  describe.each(STORE_KINDS)('CsrfGuard with encryption at rest on %s', (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootFixture(
        kind,
        [GlobalCsrfController],
        { encryption: { keys: [randomBytes(32)] } },
        globalGuard,
        adapter,
      );
    });
    afterAll(async () => {
      await h?.close();
    });

    it('tokens verify through the encrypted store; the secret is never stored in clear', async () => {
      const res = await request(h.url).get('/g/token').expect(200);
      const cookie = cookiePair(res, h.name);
      const id = sessionIdOf(cookie);
      const csrf = res.body.csrf as string;
      await request(h.url).post('/g/set/a').set('Cookie', cookie).expect(403);
      await request(h.url)
        .post('/g/set/a')
        .set('Cookie', cookie)
        .set('x-csrf-token', csrf)
        .expect(200);
      const stored = await h.record(id);
      expect(stored).toHaveProperty('$enc');
      expect(stored).not.toHaveProperty(CSRF_SECRET_KEY);
      expect(JSON.stringify(stored)).not.toContain('csrfSecret');
      // A token of another session does not open this one.
      const other = (await request(h.url).get('/g/token').expect(200)).body.csrf as string;
      await request(h.url)
        .post('/g/set/b')
        .set('Cookie', cookie)
        .set('x-csrf-token', other)
        .expect(403);
    });
  });
});

describe('the csrf option at startup', () => {
  it.each([
    [{ field: '' }, 'csrf.field'],
    [{ header: 'x-session-id' }, 'csrf.header'],
    [{ ignoreMethods: 'GET' }, 'csrf.ignoreMethods'],
  ])('%j fails the boot naming %s', async (csrf, option) => {
    const err = await bootError({
      secret: randomSecret(),
      header: 'x-session-id',
      csrf: csrf as never,
    });
    expect(err).toBeInstanceOf(SessionOptionsError);
    expect((err as SessionOptionsError).option).toBe(option);
    expect((err as Error).message).toContain(`invalid option "${option}"`);
  });
});
