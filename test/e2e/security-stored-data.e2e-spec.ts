/**
 * Hostile stored records: prototype-polluting keys, values that are not sessions, expired or
 * malformed cookies, oversized records, Redis keys of the wrong type, and cookie attributes
 * planted in the record. Over real HTTP against the sample app and a fixture app, on the
 * MemoryStore and on a private Redis.
 */
import request from 'supertest';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { SecurityController } from '../support/security-controllers';
import {
  type AppHarness,
  STORE_KINDS,
  bootFixture,
  bootSample,
  signedPair,
  wellFormedId,
} from '../support/security-harness';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { eventually } from '../support/eventually';

const HOUR = 3_600_000;

function liveCookie(extra: Record<string, unknown> = {}) {
  return {
    originalMaxAge: HOUR,
    expires: new Date(Date.now() + HOUR).toISOString(),
    httpOnly: true,
    path: '/',
    ...extra,
  };
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('hostile stored records: sample app on %s', (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootSample(kind, adapter);
    });
    afterAll(async () => {
      await h?.close();
    });

    function visit(id: string) {
      return request(h.url)
        .get('/counter')
        .set('Cookie', signedPair(h.name, id, h.secret));
    }

    /** The planted record gives a fresh session (twice: no error loop) and is removed. */
    async function expectDiscarded(value: unknown) {
      const id = wellFormedId();
      await h.plant(id, value);
      for (let i = 0; i < 2; i++) {
        const res = await visit(id);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ visits: 1 });
        const fresh = sessionIdOf(cookiePair(res, h.name));
        expect(fresh).not.toBe(id);
        expect(await h.stored(fresh)).toBe(true);
      }
      expect(await eventually(async () => !(await h.stored(id)))).toBe(true);
    }

    it('__proto__ / constructor / prototype keys do not pollute prototypes', async () => {
      const id = wellFormedId();
      const text =
        '{"cookie":' +
        JSON.stringify(liveCookie()).slice(0, -1) +
        ',"__proto__":{"secure":false,"polluted":"cookie"}}' +
        ',"__proto__":{"visits":41,"polluted":"yes","isAdmin":true}' +
        ',"constructor":{"prototype":{"polluted":"ctor"}}' +
        ',"prototype":{"polluted":"proto"},"shoppingCart":[]}';
      const parsed = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(parsed)).toContain('__proto__');
      await h.plant(id, kind === 'redis' ? text : parsed);
      const res = await visit(id);
      expect(res.status).toBe(200);
      // 41 + 1 would mean the planted __proto__ became the session's prototype
      expect(res.body).toEqual({ visits: 1 });
      const probe = {} as Record<string, unknown>;
      expect(probe.polluted).toBeUndefined();
      expect(probe.isAdmin).toBeUndefined();
      expect(probe.visits).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
      expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
      // the app keeps working for everyone
      const other = await request(h.url).get('/counter').expect(200);
      expect(other.body).toEqual({ visits: 1 });
      await request(h.url)
        .get('/profile')
        .set('Cookie', signedPair(h.name, id, h.secret))
        .expect(401);
    });

    const wrongTypes: [string, unknown][] = [
      ['an array', [1, 2, 3]],
      ['an array with a cookie', [{ cookie: liveCookie() }]],
      ['a number', 42],
      ['a string', 'a string'],
      ['true', true],
      ['zero', 0],
      ['false', false],
      ['an empty string', ''],
    ];
    it.each(wrongTypes)('a record that is %s: fresh session, record removed', async (_l, value) => {
      await expectDiscarded(kind === 'redis' ? JSON.stringify(value) : value);
    });

    it.each([
      [
        'a past cookie.expires',
        { cookie: liveCookie({ expires: new Date(Date.now() - 1000).toISOString() }), visits: 7 },
      ],
      ['no cookie', { visits: 7 }],
      ['cookie null', { cookie: null, visits: 7 }],
      ['cookie a string', { cookie: 'sid=abc', visits: 7 }],
      ['cookie an array', { cookie: [], visits: 7 }],
      ['cookie.expires not a date', { cookie: liveCookie({ expires: 'not a date' }), visits: 7 }],
      ['cookie.expires an object', { cookie: liveCookie({ expires: { $date: 1 } }), visits: 7 }],
      [
        'cookie.originalMaxAge a string',
        { cookie: liveCookie({ originalMaxAge: 'NaN' }), visits: 7 },
      ],
      ['cookie.originalMaxAge negative', { cookie: liveCookie({ originalMaxAge: -5 }), visits: 7 }],
      ['cookie.originalMaxAge zero', { cookie: liveCookie({ originalMaxAge: 0 }), visits: 7 }],
      ['cookie.originalMaxAge huge', { cookie: liveCookie({ originalMaxAge: 1e300 }), visits: 7 }],
      [
        'cookie.originalMaxAge past the last valid date',
        { cookie: liveCookie({ originalMaxAge: 8.64e15 }), visits: 7 },
      ],
      [
        'cookie.originalMaxAge an object',
        { cookie: liveCookie({ originalMaxAge: {} }), visits: 7 },
      ],
      ['cookie.expires a huge number', { cookie: liveCookie({ expires: 1e300 }), visits: 7 }],
    ])('a record with %s: fresh session, record removed', async (_l, value) => {
      await expectDiscarded(kind === 'redis' ? JSON.stringify(value) : value);
    });

    if (kind === 'redis') {
      it.each([
        ['not JSON', '{"cookie":'],
        ['binary garbage', '\u0000\u0001\u00ff'],
        ['the word undefined', 'undefined'],
        ['JSON null', 'null'],
      ])('a Redis value that is %s: fresh session, key removed', async (_l, value) => {
        await expectDiscarded(value);
      });

      it.each(['list', 'hash', 'set'])(
        'a Redis key of the wrong type (%s, WRONGTYPE): fresh session, key removed',
        async (type) => {
          const raw = h.raw!;
          const id = wellFormedId();
          const key = h.prefix + id;
          if (type === 'list') await raw.rpush(key, 'a', 'b');
          if (type === 'hash') await raw.hset(key, 'cookie', '{}');
          if (type === 'set') await raw.sadd(key, 'x');
          for (let i = 0; i < 2; i++) {
            const res = await visit(id);
            expect(res.status).toBe(200);
            expect(res.body).toEqual({ visits: 1 });
            expect(sessionIdOf(cookiePair(res, h.name))).not.toBe(id);
          }
          expect(await eventually(async () => (await raw.exists(key)) === 0)).toBe(true);
        },
      );
    }

    it('stored cookie attributes never reach Set-Cookie (domain, httpOnly, path, sameSite)', async () => {
      const id = wellFormedId();
      await h.plant(id, {
        cookie: liveCookie({
          domain: 'evil.example',
          httpOnly: false,
          secure: false,
          path: '/admin',
          sameSite: 'none',
          partitioned: true,
          priority: 'low',
        }),
        visits: 3,
      });
      const res = await visit(id).expect(200);
      expect(res.body).toEqual({ visits: 4 });
      const line = setCookieFor(res, h.name) ?? '';
      expect(line).not.toBe('');
      expect(line).not.toMatch(/Domain=/i);
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; Path=\/(;|$)/);
      expect(line).toMatch(/; SameSite=Lax/);
      expect(line).not.toMatch(/Partitioned|Priority/i);
    });
  });

  describe.each(STORE_KINDS)('stored records vs configuration: fixture app on %s', (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootFixture(
        kind,
        [SecurityController],
        {
          proxy: true,
          maxSize: 4096,
          cookie: { maxAge: HOUR, secure: true, sameSite: 'strict' },
        },
        {},
        adapter,
      );
    });
    afterAll(async () => {
      await h?.close();
    });

    it('a stored secure:false / httpOnly:false / domain does not weaken the configured cookie', async () => {
      const id = wellFormedId();
      await h.plant(id, {
        cookie: liveCookie({
          secure: false,
          httpOnly: false,
          domain: 'evil.example',
          sameSite: 'none',
        }),
        visits: 1,
      });
      const res = await request(h.url)
        .get('/count')
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', signedPair(h.name, id, h.secret))
        .expect(200);
      expect(res.body).toEqual({ visits: 2 });
      const line = setCookieFor(res, h.name) ?? '';
      expect(line).toMatch(/; Secure/);
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Strict/);
      expect(line).not.toMatch(/Domain=/i);
    });

    it('a record larger than maxSize gives a fresh session and is removed', async () => {
      const id = wellFormedId();
      await h.plant(id, { cookie: liveCookie(), visits: 5, blob: 'x'.repeat(8192) });
      for (let i = 0; i < 2; i++) {
        const res = await request(h.url)
          .get('/count')
          .set('X-Forwarded-Proto', 'https')
          .set('Cookie', signedPair(h.name, id, h.secret))
          .expect(200);
        expect(res.body).toEqual({ visits: 1 });
      }
      expect(await eventually(async () => !(await h.stored(id)))).toBe(true);
    });
  });
});
