/**
 * Hostile Cookie headers and hostile session ids against the sample app (sample/), over real
 * HTTP, on the MemoryStore and on a private Redis. Expected outcomes: issue 6, "Hostile input".
 *
 * Every hostile request must get a 2xx/4xx answer (never a 5xx), and either the client's valid
 * session or a fresh one whose id the server generated; a client-supplied id is never adopted
 * nor stored, and ids of the wrong shape cost no store read.
 */
import request from 'supertest';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';
import {
  type AppHarness,
  STORE_KINDS,
  bootSample,
  randomSecret,
  rawRequest,
  signCookieValue,
  signedPair,
  wellFormedId,
} from '../support/security-harness';
import { HTTP_ADAPTERS } from '../support/http-adapters';

const ID_SHAPE = /^[A-Za-z0-9_-]{32}$/;

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('hostile cookies and ids: sample app on %s', (kind) => {
    let h: AppHarness;

    beforeAll(async () => {
      h = await bootSample(kind, adapter);
    });
    afterAll(async () => {
      await h?.close();
    });

    const get = (path: string, cookie?: string) => {
      const req = request(h.url).get(path);
      return cookie === undefined ? req : req.set('Cookie', cookie);
    };

    /** A real session with `visits` = 1; returns its cookie pair and id. */
    async function session(): Promise<{ pair: string; id: string }> {
      const res = await get('/counter').expect(200, { visits: 1 });
      const pair = cookiePair(res, h.name);
      return { pair, id: sessionIdOf(pair) };
    }

    /** The answer is a fresh session (visits 1) with a server-generated id, not `notId`. */
    async function expectFresh(cookie: string, notIds: string[] = []): Promise<string> {
      const res = await get('/counter', cookie);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ visits: 1 });
      const line = setCookieFor(res, h.name);
      expect(line).toBeDefined();
      const id = sessionIdOf(cookiePair(res, h.name));
      expect(id).toMatch(ID_SHAPE);
      for (const notId of notIds) {
        expect(id).not.toBe(notId);
        expect(await h.stored(notId)).toBe(false);
      }
      expect(await h.stored(id)).toBe(true);
      return id;
    }

    describe('Cookie header', () => {
      const badFirstCopies = (id: string): Record<string, string> => ({
        unsigned: id,
        'wrong signature': signCookieValue(id, randomSecret()),
        empty: '',
        'bare s:': 's:',
        'bad percent-encoding': '%E0%A4%A',
        'lone %': '%',
        'quoted garbage': '"s:x.y"',
        'signed, wrong shape': signCookieValue('*', randomSecret()),
      });

      it.each([
        'unsigned',
        'wrong signature',
        'empty',
        'bare s:',
        'bad percent-encoding',
        'lone %',
        'quoted garbage',
        'signed, wrong shape',
      ])('an invalid first copy (%s) does not hide a valid second copy', async (variant) => {
        const { pair, id } = await session();
        const bad = badFirstCopies(id)[variant] as string;
        const raw = /%|"/.test(bad) ? bad : encodeURIComponent(bad);
        const res = await get('/counter', `${h.name}=${raw}; ${pair}`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ visits: 2 });
        // and with the copies the other way round
        const res2 = await get('/counter', `${pair}; ${h.name}=${raw}`);
        expect(res2.body).toEqual({ visits: 3 });
      });

      it('hundreds of cookies, and hundreds of bad copies before the valid one', async () => {
        const { pair } = await session();
        const others = Array.from({ length: 400 }, (_, i) => `c${i}=v${i}`);
        const mixed = [...others.slice(0, 200), pair, ...others.slice(200)].join('; ');
        expect((await get('/counter', mixed)).body).toEqual({ visits: 2 });
        const bad = Array.from({ length: 300 }, (_, i) => `${h.name}=s%3Ajunk${i}.sig`);
        const started = Date.now();
        const res = await get('/counter', [...bad, pair].join('; '));
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ visits: 3 });
        expect(Date.now() - started).toBeLessThan(2000);
        // only bad copies: a fresh session
        await expectFresh(bad.join('; '));
      });

      it('a ~15 KB Cookie header still finds the valid session', async () => {
        const { pair } = await session();
        const filler = Array.from({ length: 150 }, (_, i) => `pad${i}=${'x'.repeat(90)}`).join(
          '; ',
        );
        expect(filler.length).toBeGreaterThan(14_000);
        const res = await get('/counter', `${filler}; ${pair}`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ visits: 2 });
      });

      it('a 16 KB+ Cookie header is never a 5xx, and the server keeps serving', async () => {
        const { pair } = await session();
        for (const size of [16 * 1024, 20 * 1024]) {
          const header = `${pair}; big=${'y'.repeat(size)}`;
          const res = await rawRequest(
            h.port,
            `GET /counter HTTP/1.1\r\nHost: x\r\nCookie: ${header}`,
          );
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status).toBeLessThan(500);
          // a single 16 KB session cookie value
          const huge = await rawRequest(
            h.port,
            `GET /counter HTTP/1.1\r\nHost: x\r\nCookie: ${h.name}=${'z'.repeat(size)}`,
          );
          expect(huge.status).toBeLessThan(500);
        }
        expect((await get('/counter', pair)).body).toEqual({ visits: 2 });
      });

      it.each([
        ['bad percent-encoding', '%E0%A4%A'],
        ['truncated escape', 's%3A%'],
        ['invalid escape', '%zz%G1'],
        ['encoded NUL', 's%3A%00%00.abc'],
        ['double-encoded', 's%253Aabc.def'],
        ['only percent signs', '%%%%'],
        ['quotes', '"s%3Aabc.def"'],
        ['unbalanced quote', '"s%3Aabc'],
        ['semicolons and commas', 'a,b,,c'],
        ['equals signs', '==s:abc.def=='],
      ])('%s in the session cookie: a fresh session', async (_label, value) => {
        await expectFresh(`${h.name}=${value}`);
      });

      it('a quoted copy of a valid cookie is never a 5xx (the valid session or a fresh one)', async () => {
        const { pair, id } = await session();
        const value = pair.slice(pair.indexOf('=') + 1);
        const res = await get('/counter', `${h.name}="${value}"`);
        expect(res.status).toBe(200);
        if (res.body.visits !== 2) {
          expect(res.body).toEqual({ visits: 1 });
          expect(sessionIdOf(cookiePair(res, h.name))).not.toBe(id);
        }
      });

      it.each([
        ['SOH', '\x01'],
        ['DEL', '\x7f'],
        ['tab', '\t'],
        ['NUL', '\x00'],
        ['ESC', '\x1b'],
        ['raw latin-1 é', '\xe9'],
        ['raw UTF-8 é', '\xc3\xa9'],
      ])(
        'control/raw bytes (%s) in the Cookie header: never a 5xx, never adopted',
        async (_l, ch) => {
          const { pair, id } = await session();
          const value = pair.slice(pair.indexOf('=') + 1);
          for (const cookie of [
            `${h.name}=s%3A${id}${ch}.sig`,
            `${h.name}=${ch}${value}`,
            `x=${ch}; ${pair}`,
          ]) {
            const res = await rawRequest(
              h.port,
              Buffer.from(`GET /counter HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}`, 'latin1'),
            );
            expect(res.status).toBeLessThan(500);
            if (res.status === 200) {
              const line = res.setCookies.find((l) => l.startsWith(`${h.name}=`));
              // either the valid session (no new cookie needed) or a fresh, server-made id
              if (line) {
                const fresh = decodeURIComponent(line.split(';')[0]!.split('=')[1]!);
                expect(fresh.slice(2, fresh.lastIndexOf('.'))).toMatch(ID_SHAPE);
              }
            }
          }
          // the server is still healthy and the valid session intact
          const after = await get('/counter', pair);
          expect(after.status).toBe(200);
          expect(after.body.visits).toBeGreaterThanOrEqual(2);
        },
      );
    });

    describe('session ids', () => {
      it('an unsigned id (even a live one) is not accepted', async () => {
        const { id } = await session();
        await expectFresh(`${h.name}=${id}`);
        await expectFresh(`${h.name}=${encodeURIComponent(`s:${id}`)}`);
        // the live session is untouched
        expect(await h.stored(id)).toBe(true);
      });

      it('a wrongly signed id (live or not) is not accepted and not stored', async () => {
        const { id } = await session();
        await expectFresh(signedPair(h.name, id, randomSecret()));
        const planted = wellFormedId();
        await expectFresh(signedPair(h.name, planted, randomSecret()), [planted]);
        // signature of another id
        const other = signCookieValue(wellFormedId(), h.secret);
        const forged = `s:${planted}.${other.slice(other.lastIndexOf('.') + 1)}`;
        await expectFresh(`${h.name}=${encodeURIComponent(forged)}`, [planted]);
      });

      it.each([
        ['empty', ''],
        ['s: only', 's:'],
        ['s: and a dot', 's:.'],
        ['dot only', '.'],
        ['signature only', `s:.${'A'.repeat(43)}`],
      ])('an empty id (%s): a fresh session', async (_l, value) => {
        await expectFresh(`${h.name}=${encodeURIComponent(value)}`);
      });

      const malformed: [string, string][] = [
        ['31 characters', wellFormedId().slice(0, 31)],
        ['33 characters', `${wellFormedId()}A`],
        ['64 characters', wellFormedId() + wellFormedId()],
        ['standard base64 alphabet (+ and /)', `${wellFormedId().slice(0, 30)}+/`],
        ['star', `${wellFormedId().slice(0, 31)}*`],
        ['all stars', '*'.repeat(32)],
        ['question mark', `${wellFormedId().slice(0, 31)}?`],
        ['colon', `${wellFormedId().slice(0, 31)}:`],
        ['a dot inside', `${wellFormedId().slice(0, 16)}.${wellFormedId().slice(0, 15)}`],
        ['newline', `${wellFormedId().slice(0, 31)}\n`],
        ['CRLF', `${wellFormedId().slice(0, 30)}\r\n`],
        ['non-ASCII', `${wellFormedId().slice(0, 31)}é`],
        ['emoji', `${wellFormedId().slice(0, 30)}😀`],
        ['4 KB', 'A'.repeat(4096)],
        ['12 KB', 'B'.repeat(12 * 1024)],
        ['glob pattern for Redis', `${h0()}*`],
      ];
      function h0(): string {
        return wellFormedId().slice(0, 31);
      }

      it.each(malformed)(
        'an id of the wrong shape (%s), correctly signed with the app secret: fresh, no store read, never stored',
        async (_l, bad) => {
          const pair = signedPair(h.name, bad, h.secret);
          const { result: id, storeGets, redisGets } = await h.reads(() => expectFresh(pair));
          expect(id).not.toBe(bad);
          expect(await h.stored(bad)).toBe(false);
          expect(storeGets).toBe(0);
          expect(redisGets).toBe(0);
        },
      );

      it('a well-shaped id signed with the app secret but never issued: fresh, one read, never stored', async () => {
        const planted = wellFormedId();
        const { result: id, storeGets } = await h.reads(() =>
          expectFresh(signedPair(h.name, planted, h.secret), [planted]),
        );
        expect(id).not.toBe(planted);
        expect(storeGets).toBeLessThanOrEqual(2);
        // still not adopted on the next request either
        await expectFresh(signedPair(h.name, planted, h.secret), [planted]);
      });

      it('a session id in the query string or body is ignored', async () => {
        const victim = request.agent(h.url);
        await victim.post('/cart/items').send({ productId: 'tea', quantity: 5 }).expect(200);
        const res = await victim.get('/counter').expect(200);
        const pair = cookiePair(res, h.name);
        const id = sessionIdOf(pair);
        const value = pair.slice(pair.indexOf('=') + 1);
        for (const query of [
          `${h.name}=${value}`,
          `sid=${value}`,
          `sessionID=${id}`,
          `sessionId=${id}`,
          `connect.sid=${value}`,
        ]) {
          const r = await get(`/counter?${query}`).expect(200);
          expect(r.body).toEqual({ visits: 1 });
          expect(sessionIdOf(cookiePair(r, h.name))).not.toBe(id);
        }
        const viaBody = await request(h.url)
          .post('/cart/items')
          .send({ productId: 'cake', [h.name]: value, sessionID: id, sid: value })
          .expect(200);
        expect(viaBody.body.items).toEqual([
          expect.objectContaining({ productId: 'cake', quantity: 1 }),
        ]);
        expect(sessionIdOf(cookiePair(viaBody, h.name))).not.toBe(id);
        const form = await request(h.url)
          .post('/cart/items')
          .type('form')
          .send({ productId: 'cake', [h.name]: value, sessionID: id })
          .expect(200);
        expect(sessionIdOf(cookiePair(form, h.name))).not.toBe(id);
        // the victim's cart is untouched
        expect((await victim.get('/cart')).body.items).toEqual([
          expect.objectContaining({ productId: 'tea', quantity: 5 }),
        ]);
      });
    });
  });
});
