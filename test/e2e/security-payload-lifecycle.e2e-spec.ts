/**
 * Session payloads JSON cannot carry, and every shape of response (HEAD, 204, 304, streaming,
 * chunked, `@Res()` with `res.end(data, cb)`, client aborts, a handler failing after changing the
 * session), over real HTTP against a fixture Nest app on the MemoryStore and on a private Redis.
 */
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { SecurityController, endCallbacks } from '../support/security-controllers';
import { type AppHarness, STORE_KINDS, bootFixture } from '../support/security-harness';
import { HTTP_ADAPTERS } from '../support/http-adapters';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('payloads and response lifecycle: fixture app on %s', (kind) => {
    let h: AppHarness;
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);

    beforeAll(async () => {
      process.on('unhandledRejection', onUnhandled);
      h = await bootFixture(
        kind,
        [SecurityController],
        {
          maxSize: 65_536,
          cookie: { maxAge: 3_600_000 },
        },
        {},
        adapter,
      );
    });
    afterAll(async () => {
      process.off('unhandledRejection', onUnhandled);
      await h?.close();
    });
    afterEach(() => {
      expect(unhandled).toEqual([]);
    });

    /** A stored session with visits = 1: its cookie pair and id. */
    async function session(): Promise<{ pair: string; id: string }> {
      const res = await request(h.url).get('/count').expect(200, { visits: 1 });
      const pair = cookiePair(res, h.name);
      return { pair, id: sessionIdOf(pair) };
    }

    async function visitsOf(id: string): Promise<unknown> {
      return (await h.record(id))?.visits;
    }

    describe('payloads', () => {
      it.each([
        ['circular', '/circular'],
        ['BigInt', '/bigint'],
      ])(
        'a %s value: clear error status with a message, previous record intact',
        async (_l, path) => {
          const { pair, id } = await session();
          const before = await h.record(id);
          const res = await request(h.url).post(path).set('Cookie', pair);
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(600);
          expect(res.status).not.toBe(503);
          expect(String(res.body?.message)).toMatch(/serializ/i);
          expect(setCookieFor(res, h.name)).toBeUndefined();
          const after = await h.record(id);
          expect(after).toEqual(before);
          expect(after?.visits).toBe(1);
          expect(
            (await request(h.url).get('/peek').set('Cookie', pair).expect(200)).body.data,
          ).toEqual({
            visits: 1,
          });
        },
      );

      it.each(['/circular', '/bigint', '/big?kb=128'])(
        'a new session whose data cannot be saved (%s) leaves no record and no cookie',
        async (path) => {
          const before = await h.count();
          const res = await request(h.url).post(path);
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(setCookieFor(res, h.name)).toBeUndefined();
          expect(await h.count()).toBe(before);
        },
      );

      it('a payload over maxSize: clear error status with a message, previous record intact', async () => {
        const { pair, id } = await session();
        const res = await request(h.url).post('/big?kb=128').set('Cookie', pair);
        expect([413, 500]).toContain(res.status);
        expect(String(res.body?.message)).toMatch(/size|large/i);
        expect(await visitsOf(id)).toBe(1);
        expect((await h.record(id))?.blob).toBeUndefined();
        // under the limit it is saved
        await request(h.url).post('/big?kb=8').set('Cookie', pair).expect(201);
        expect(await visitsOf(id)).toBe(999);
      });

      it('very deep nesting: answered (saved and readable, or a clear error), never a hang', async () => {
        const { pair, id } = await session();
        const res = await request(h.url)
          .post('/deep?depth=20000')
          .set('Cookie', pair)
          .timeout(5000);
        if (res.status === 201) {
          expect(await visitsOf(id)).toBe(999);
          await request(h.url).get('/count').set('Cookie', pair).expect(200, { visits: 1000 });
        } else {
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(String(res.body?.message)).not.toBe('');
          expect(await visitsOf(id)).toBe(1);
        }
        const deeper = await request(h.url)
          .post('/deep?depth=200000')
          .set('Cookie', pair)
          .timeout(5000);
        expect(deeper.status).toBeGreaterThanOrEqual(200);
        await request(h.url).get('/peek').set('Cookie', pair).expect(200);
      });

      it("JSON's lossiness: Date becomes a string, Map/Set become {}, undefined/functions vanish, NaN/Infinity become null", async () => {
        const { pair } = await session();
        await request(h.url).post('/lossy').set('Cookie', pair).expect(200);
        const res = await request(h.url).get('/peek').set('Cookie', pair).expect(200);
        expect(res.body.data).toEqual({
          visits: 1,
          when: '2020-01-02T03:04:05.000Z',
          map: {},
          set: {},
          nan: null,
          big: null,
        });
        expect(res.body.types.when).toBe('string');
      });
    });

    describe('response lifecycle', () => {
      it('HEAD: cookie set, session stored, no body', async () => {
        const res = await request(h.url).head('/head').expect(200);
        expect(res.text ?? '').toBe('');
        const pair = cookiePair(res, h.name);
        expect(await visitsOf(sessionIdOf(pair))).toBe(1);
        await request(h.url).head('/head').set('Cookie', pair).expect(200);
        expect(await visitsOf(sessionIdOf(pair))).toBe(2);
      });

      it('204: cookie set, session stored', async () => {
        const res = await request(h.url).post('/no-content').expect(204);
        const pair = cookiePair(res, h.name);
        expect(await visitsOf(sessionIdOf(pair))).toBe(1);
        await request(h.url).post('/no-content').set('Cookie', pair).expect(204);
        expect(await visitsOf(sessionIdOf(pair))).toBe(2);
      });

      it('304 (ETag + If-None-Match): the change is stored, the session stays valid', async () => {
        const first = await request(h.url).get('/etag').expect(200);
        const etag = first.headers.etag as string;
        expect(etag).toBeDefined();
        const pair = cookiePair(first, h.name);
        const id = sessionIdOf(pair);
        const second = await request(h.url)
          .get('/etag')
          .set('Cookie', pair)
          .set('If-None-Match', etag)
          .timeout(5000);
        expect(second.status).toBe(304);
        expect(await visitsOf(id)).toBe(2);
        await request(h.url).get('/count').set('Cookie', pair).expect(200, { visits: 3 });
      });

      it('streaming with res.write chunks: full body, cookie set, session stored', async () => {
        const res = await request(h.url)
          .get('/stream')
          .buffer(true)
          .parse((r, cb) => {
            let text = '';
            r.on('data', (d: Buffer) => (text += d.toString()));
            r.on('end', () => cb(null, text));
          });
        expect(res.status).toBe(200);
        expect(res.body).toBe('chunk0;chunk1;chunk2;chunk3;chunk4;end');
        expect(res.headers['transfer-encoding']).toBe('chunked');
        const pair = cookiePair(res, h.name);
        expect(await visitsOf(sessionIdOf(pair))).toBe(1);
        await request(h.url).get('/stream').set('Cookie', pair).expect(200);
        expect(await visitsOf(sessionIdOf(pair))).toBe(2);
      });

      it('a piped (chunked) stream: full body, cookie set, session stored', async () => {
        const res = await request(h.url).get('/stream-file').expect(200);
        expect(res.text).toBe('a;b;c;end');
        const pair = cookiePair(res, h.name);
        expect(await visitsOf(sessionIdOf(pair))).toBe(1);
      });

      it.each(['res.end(data, cb)', 'res.end(data, encoding, cb)'])(
        '@Res() with %s: the callback runs and the session is stored',
        async (form) => {
          const path = form === 'res.end(data, cb)' ? '/end-cb' : '/end-cb?encoding=utf8';
          const calls = endCallbacks.calls;
          const res = await request(h.url).get(path).timeout(5000).expect(200);
          expect(JSON.parse(res.text)).toEqual({ visits: 1 });
          const pair = cookiePair(res, h.name);
          expect(await visitsOf(sessionIdOf(pair))).toBe(1);
          for (let i = 0; i < 50 && endCallbacks.calls === calls; i++) await sleep(10);
          expect(endCallbacks.calls).toBe(calls + 1);
        },
      );

      /** Sends a GET and destroys the socket after `afterMs`. */
      function abortAfter(path: string, cookie: string, afterMs: number): Promise<void> {
        return new Promise((resolve) => {
          const req = httpRequest({
            host: '127.0.0.1',
            port: h.port,
            path,
            headers: { cookie },
            agent: false,
          });
          req.on('error', () => resolve());
          req.on('response', (res) => {
            res.on('data', () => undefined);
            res.on('error', () => resolve());
          });
          req.end();
          setTimeout(() => {
            req.destroy();
            resolve();
          }, afterMs);
        });
      }

      async function openConnections(): Promise<number> {
        const server = h.app.getHttpServer() as {
          getConnections(cb: (err: Error | null, n: number) => void): void;
        };
        return new Promise((resolve, reject) =>
          server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
        );
      }

      it('the client aborting mid-request or mid-body: no crash, nothing hung, the session consistent', async () => {
        const { pair, id } = await session();
        await abortAfter('/slow?ms=300', pair, 50);
        await abortAfter('/slow-stream', pair, 60);
        await abortAfter('/slow?ms=100', '', 20);
        await sleep(500);
        // every aborted exchange is over: no socket left open
        for (let i = 0; i < 50 && (await openConnections()) > 0; i++) await sleep(20);
        expect(await openConnections()).toBe(0);
        const visits = (await visitsOf(id)) as number;
        expect(visits).toBeGreaterThanOrEqual(1);
        expect(visits).toBeLessThanOrEqual(3);
        const res = await request(h.url)
          .get('/count')
          .set('Cookie', pair)
          .timeout(2000)
          .expect(200);
        expect(res.body).toEqual({ visits: visits + 1 });
      });

      it('a handler that throws (500) after changing the session: nothing stored, no cookie', async () => {
        const before = await h.count();
        const anonymous = await request(h.url).post('/boom').expect(500);
        expect(setCookieFor(anonymous, h.name)).toBeUndefined();
        expect(await h.count()).toBe(before);

        const { pair, id } = await session();
        const recordBefore = await h.record(id);
        const res = await request(h.url).post('/boom').set('Cookie', pair).expect(500);
        expect(setCookieFor(res, h.name)).toBeUndefined();
        expect(await h.record(id)).toEqual(recordBefore);
        expect(
          (await request(h.url).get('/peek').set('Cookie', pair).expect(200)).body.data,
        ).toEqual({
          visits: 1,
        });
      });
    });
  });
});
