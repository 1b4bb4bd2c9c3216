/**
 * RedisStore on a real Redis: connect-redis record compatibility, commands per operation
 * (measured with INFO commandstats on a private server), options, bad data, errors, the Cluster,
 * and the cost per request through the express drop-in.
 */
process.env.NO_DEPRECATION = 'express-session';

import express from 'express';
import request from 'supertest';
import type { Cluster, Redis } from 'ioredis';
import session = require('../../../lib/express');
import { Cookie } from '../../../lib/engine/cookie';
import type { SessionRecord } from '../../../lib/engine/session-data';
import { RedisStore, RedisStoreError } from '../../../lib/stores/redis/redis-store';
import {
  commandDelta,
  commandStats,
  ready,
  startRedis,
  startRedisCluster,
  type RedisClusterHandle,
  type RedisHandle,
} from '../../support/redis-server';
import { loadedSession, newSession, newSid, sessionOf } from '../../support/store-contract';

/** A record exactly as connect-redis (7.x/8.x, JSON serializer) writes it for express-session 1.18+. */
function connectRedisRecord(expires: Date, data: Record<string, unknown>): string {
  return (
    `{"cookie":{"originalMaxAge":3600000,"expires":"${expires.toISOString()}",` +
    `"httpOnly":true,"path":"/"},` +
    Object.entries(data)
      .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join(',') +
    '}'
  );
}

describe('RedisStore (standalone Redis)', () => {
  let redis: RedisHandle;
  let client: Redis;
  let admin: Redis;
  let store: RedisStore;

  beforeAll(async () => {
    // Command counts need a server nobody else uses.
    redis = await startRedis({ requirePrivate: true });
    client = redis.client();
    admin = redis.client();
    await Promise.all([ready(client), ready(admin)]);
    store = new RedisStore({ client });
  });
  afterAll(() => redis.stop());

  async function measure(fn: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = await commandStats([admin]);
    await fn();
    const after = await commandStats([admin]);
    return commandDelta(before, after);
  }

  describe('connect-redis data format', () => {
    it('reads a record written by connect-redis', async () => {
      const expires = new Date(Date.now() + 3_600_000);
      await admin.set('sess:cr-1', connectRedisRecord(expires, { user: 'ada', n: 1 }), 'EX', 3600);
      const record = await store.get('cr-1');
      expect(record).toEqual({
        cookie: {
          originalMaxAge: 3_600_000,
          expires: expires.toISOString(),
          httpOnly: true,
          path: '/',
        },
        user: 'ada',
        n: 1,
      });
      // The engine's Store#load turns it into a session with a Date expiry.
      const loaded = await store.load('cr-1');
      expect(loaded?.cookie.expires).toEqual(expires);
      expect(loaded?.cookie.originalMaxAge).toBe(3_600_000);
      expect((loaded as unknown as { user: string }).user).toBe('ada');
    });

    it('writes exactly the connect-redis record: key, value and TTL', async () => {
      const cookie = new Cookie({ maxAge: 3_600_000 });
      const sessionObj = { cookie, user: 'ada', n: 1 } as unknown as SessionRecord;
      await store.set('cr-2', sessionObj);
      const raw = await admin.get('sess:cr-2');
      expect(raw).toBe(connectRedisRecord(cookie.expires as Date, { user: 'ada', n: 1 }));
      expect(await admin.ttl('sess:cr-2')).toBe(3600);
    });

    it('a browser-session cookie (no expiry) is stored with ttl (default one day)', async () => {
      await store.set('cr-3', newSession({ a: 1 }, null));
      expect(await admin.ttl('sess:cr-3')).toBe(86_400);
      expect(JSON.parse((await admin.get('sess:cr-3')) as string)).toEqual({
        cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
        a: 1,
      });
    });

    it('touch is EXPIRE only: the stored value is untouched', async () => {
      await store.set('cr-4', newSession({ a: 1 }, 10_000));
      const before = await admin.get('sess:cr-4');
      await store.touch('cr-4', newSession({ a: 2 }, 100_000));
      expect(await admin.get('sess:cr-4')).toBe(before);
      expect(await admin.ttl('sess:cr-4')).toBe(100);
    });

    it('all() is an array of sessions with their id (connect-redis shape)', async () => {
      const s = new RedisStore({ client, prefix: 'all-shape:' });
      await s.set('x', newSession({ v: 'x' }));
      const all = await s.all();
      expect(all).toEqual([expect.objectContaining({ id: 'x', v: 'x' })]);
      await s.clear();
    });
  });

  describe('one command per operation (INFO commandstats)', () => {
    it('get = 1 GET, set = 1 SET, touch = 1 EXPIRE, destroy = 1 DEL + 1 PUBLISH (revocation)', async () => {
      const sid = newSid();
      expect(await measure(() => store.set(sid, newSession({ a: 1 })))).toEqual({ set: 1 });
      expect(await measure(() => store.get(sid))).toEqual({ get: 1 });
      expect(await measure(() => store.touch(sid, newSession()))).toEqual({ expire: 1 });
      expect(await measure(() => store.destroy(sid))).toEqual({ del: 1, publish: 1 });
      expect(await measure(() => store.get(sid))).toEqual({ get: 1 });
    });

    it('touch of a session read in this request rewrites its expiry, but never over a concurrent change', async () => {
      const sid = newSid();
      await store.set(sid, newSession({ a: 1 }, 60_000));
      // Unchanged since it was read: the record is rewritten with the new expiry (one script).
      const first = loadedSession(sid, (await store.get(sid)) as SessionRecord);
      (first.cookie as unknown as Cookie).maxAge = 3_600_000;
      expect(await measure(() => store.touch(sid, first))).toEqual({ eval: 1, get: 1, set: 1 });
      const stored = JSON.parse((await client.get(`sess:${sid}`)) as string);
      expect(stored.a).toBe(1);
      expect(Date.parse(stored.cookie.expires)).toBeGreaterThan(Date.now() + 3_000_000);
      expect(await client.ttl(`sess:${sid}`)).toBeGreaterThan(3_000);
      // Changed by another request after this one read it: the touch leaves it alone.
      const stale = loadedSession(sid, (await store.get(sid)) as SessionRecord);
      await store.set(sid, loadedSession(sid, { ...stored, a: 2 }));
      expect(await measure(() => store.touch(sid, stale))).toEqual({ eval: 1, get: 1 });
      expect(((await store.get(sid)) as SessionRecord).a).toBe(2);
      // Destroyed meanwhile: it stays gone.
      const gone = loadedSession(sid, (await store.get(sid)) as SessionRecord);
      await store.destroy(sid);
      await store.touch(sid, gone);
      expect(await client.exists(`sess:${sid}`)).toBe(0);
    });

    it('patch (merge mode) rewrites only the changed keys and leaves every other value byte-for-byte', async () => {
      const sid = newSid();
      const tricky = {
        empty: [],
        emptyObject: {},
        nested: { a: [1, { b: '}{][' }], 'quote"key': 'x\\"y' },
        unicode: 'é😀\u2028',
        numbers: [1e21, -0.5, 1234567890123456],
        text: 'commas, colons: and "quotes"',
        drop: true,
      };
      await store.set(sid, newSession(tricky, 60_000));
      const before = (await client.get(`sess:${sid}`)) as string;
      const loaded = loadedSession(sid, (await store.get(sid)) as SessionRecord);
      expect(
        await measure(() =>
          store.patch(
            sid,
            {
              set: [
                ['added', '{"x":[]}'],
                ['text', '"changed"'],
              ],
              unset: ['drop'],
            },
            loaded,
          ),
        ),
      ).toEqual({ eval: 1, get: 1, set: 1 });
      const after = (await client.get(`sess:${sid}`)) as string;
      const expected = JSON.parse(before);
      expected.text = 'changed';
      expected.added = { x: [] };
      delete expected.drop;
      expected.cookie = JSON.parse(JSON.stringify(loaded.cookie));
      expect(JSON.parse(after)).toEqual(expected);
      // untouched values keep their exact bytes (no re-encoding by the script)
      for (const key of ['empty', 'emptyObject', 'nested', 'unicode', 'numbers']) {
        expect(after).toContain(
          `"${key}":${JSON.stringify((tricky as Record<string, unknown>)[key])}`,
        );
      }
      // a destroyed session is not brought back by a patch
      await store.destroy(sid);
      await store.patch(sid, { set: [['late', 'true']], unset: [] }, loaded);
      expect(await client.exists(`sess:${sid}`)).toBe(0);
    });

    it('an already expired session costs 1 DEL and is not written', async () => {
      const sid = newSid();
      await store.set(sid, newSession());
      const expired = newSession();
      (expired.cookie as unknown as Cookie).expires = new Date(Date.now() - 1);
      expect(await measure(() => store.set(sid, expired))).toEqual({ del: 1 });
      expect(await admin.exists(`sess:${sid}`)).toBe(0);
    });

    it('a stored session is saved with SET … XX: 1 SET, no resurrection after a destroy', async () => {
      const sid = newSid();
      await store.set(sid, newSession({ n: 1 }));
      const loaded = loadedSession(sid, (await store.get(sid)) as SessionRecord);
      loaded.n = 2;
      expect(await measure(() => store.set(sid, loaded))).toEqual({ set: 1 });
      expect((await store.get(sid))?.n).toBe(2);
      await store.destroy(sid);
      loaded.n = 3;
      expect(await measure(() => store.set(sid, loaded))).toEqual({ set: 1 });
      expect(await admin.exists(`sess:${sid}`)).toBe(0);
      // A concurrent destroy between the read and the save, with both in flight at once.
      await store.set(sid, newSession({ n: 1 }));
      const again = loadedSession(sid, (await store.get(sid)) as SessionRecord);
      again.n = 5;
      await Promise.all([store.destroy(sid), store.set(sid, again)]);
      expect(await admin.exists(`sess:${sid}`)).toBe(0);
    });

    it('listing uses SCAN batches (never KEYS) and one MGET/DEL per batch', async () => {
      const s = new RedisStore({ client, prefix: 'listing:', scanCount: 100 });
      const pipeline = admin.pipeline();
      for (let i = 0; i < 250; i++) {
        pipeline.set(`listing:${i}`, JSON.stringify(newSession({ i })), 'EX', 600);
      }
      await pipeline.exec();
      await admin.set('other:1', '{}'); // outside the prefix
      let ids: string[] = [];
      const idsCost = await measure(async () => (ids = await s.ids()));
      expect(ids).toHaveLength(250);
      expect(Object.keys(idsCost)).toEqual(['scan']);
      expect(idsCost.keys).toBeUndefined();
      expect(await s.length()).toBe(250);
      let all: unknown[] = [];
      const allCost = await measure(async () => (all = await s.all()));
      expect(all).toHaveLength(250);
      expect(Object.keys(allCost).sort()).toEqual(['mget', 'scan']);
      expect(allCost.mget).toBeLessThanOrEqual(allCost.scan as number);
      const clearCost = await measure(() => s.clear());
      expect(Object.keys(clearCost).sort()).toEqual(['del', 'scan']);
      expect(await s.length()).toBe(0);
      expect(await admin.get('other:1')).toBe('{}');
      await admin.del('other:1');
    });

    it('glob characters in the prefix are matched literally', async () => {
      const s = new RedisStore({ client, prefix: 'g*[x]?:' });
      await s.set('a', newSession());
      await admin.set('gZZ[x]?:b', JSON.stringify(newSession()));
      expect(await s.ids()).toEqual(['a']);
      await s.clear();
      expect(await admin.exists('gZZ[x]?:b')).toBe(1);
      await admin.del('gZZ[x]?:b');
    });
  });

  describe('options', () => {
    it('prefix, ttl as a function, serializer', async () => {
      const serializer = {
        stringify: (s: SessionRecord) => Buffer.from(JSON.stringify(s)).toString('base64'),
        parse: (text: string) => JSON.parse(Buffer.from(text, 'base64').toString()) as unknown,
      };
      const seen: SessionRecord[] = [];
      const s = new RedisStore({
        client,
        prefix: 'opt:',
        serializer,
        ttl: (sess) => {
          seen.push(sess);
          return 42;
        },
      });
      await s.set('a', newSession({ v: 1 }));
      expect(await admin.ttl('opt:a')).toBe(42);
      expect(
        JSON.parse(Buffer.from((await admin.get('opt:a')) as string, 'base64').toString()).v,
      ).toBe(1);
      expect((await s.get('a'))?.v).toBe(1);
      await s.touch('a', newSession());
      expect(seen).toHaveLength(2);
      await s.destroy('a');
    });

    it('disableTouch: touch sends nothing; disableTTL: no expiry and touch sends nothing', async () => {
      const noTouch = new RedisStore({ client, prefix: 'nt:', disableTouch: true });
      await noTouch.set('a', newSession({}, 10_000));
      expect(await measure(() => noTouch.touch('a', newSession({}, 100_000)))).toEqual({});
      expect(await admin.ttl('nt:a')).toBe(10);
      const noTtl = new RedisStore({ client, prefix: 'nttl:', disableTTL: true });
      await noTtl.set('a', newSession({}, 10_000));
      expect(await admin.ttl('nttl:a')).toBe(-1);
      expect(await measure(() => noTtl.touch('a', newSession()))).toEqual({});
      await admin.del('nt:a', 'nttl:a');
    });

    it('validates its options', () => {
      expect(() => new RedisStore({} as never)).toThrow(/client must be an ioredis/);
      expect(() => new RedisStore({ client, ttl: 0 })).toThrow(/ttl/);
      expect(() => new RedisStore({ client, scanCount: 0 })).toThrow(/scanCount/);
      expect(() => new RedisStore({ client, timeout: -1 })).toThrow(/timeout/);
      expect(() => new RedisStore({ client, prefix: 1 as never })).toThrow(/prefix/);
      expect(() => new RedisStore({ client, serializer: {} as never })).toThrow(/serializer/);
      expect(() => new RedisStore({ client, waitReplicas: -1 })).toThrow(/waitReplicas/);
      expect(() => new RedisStore({ client, waitReplicas: 1.5 })).toThrow(/waitReplicas/);
      expect(() => new RedisStore({ client, waitTimeout: 0 })).toThrow(/waitTimeout/);
      expect(() => new RedisStore({ client, failoverReplay: true as never })).toThrow(
        /failoverReplay must be false or/,
      );
      expect(() => new RedisStore({ client, failoverReplay: { windowMs: 0 } })).toThrow(
        /failoverReplay\.windowMs/,
      );
      expect(() => new RedisStore({ client, failoverReplay: { maxWrites: 1.5 } })).toThrow(
        /failoverReplay\.maxWrites/,
      );
      expect(() => new RedisStore({ client, waitReplicas: 1, waitTimeout: 2_000 })).toThrow(
        'RedisStore option waitTimeout (2000 ms) must be below timeout (2000 ms)',
      );
      expect(() => new RedisStore({ client, watchSentinels: 'yes' as never })).toThrow(
        /watchSentinels must be a boolean/,
      );
      const s = new RedisStore({ client });
      expect([s.prefix, s.ttl, s.scanCount, s.timeout]).toEqual(['sess:', 86_400, 100, 2_000]);
      expect([s.waitReplicas, s.waitTimeout]).toEqual([0, 1_000]);
      expect(new RedisStore({ client, timeout: 500, waitReplicas: 1 }).waitTimeout).toBe(250);
    });

    it('waitReplicas: a write no replica confirms in time fails (not acknowledged); reads are not held up', async () => {
      const prefix = 'wait:';
      const s = new RedisStore({ client, prefix, waitReplicas: 1, waitTimeout: 50 });
      const before = await commandStats([admin]);
      const error = (await s.set('wait-1', newSession()).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(RedisStoreError);
      expect(error.message).toBe(
        'RedisStore set failed: the write reached 0 of 1 replicas within 50 ms (waitReplicas)',
      );
      await expect(s.destroy('wait-1')).rejects.toThrow(/reached 0 of 1 replicas/);
      // Reads send no WAIT.
      await expect(s.get('wait-2')).resolves.toBeUndefined();
      // The destroy's PUBLISH (revocation) goes with its DEL, whatever the replicas say.
      expect(commandDelta(before, await commandStats([admin]))).toEqual({
        set: 1,
        del: 1,
        publish: 1,
        wait: 2,
        get: 1,
      });
      // With no replica required, the same store shape writes normally.
      await new RedisStore({ client, prefix }).set('wait-3', newSession());
      expect(await admin.exists(`${prefix}wait-3`)).toBe(1);
    });

    it('bounds its single-command operations by timeout, so the engine adds no timer of its own', () => {
      const s = new RedisStore({ client, timeout: 300 });
      for (const m of ['get', 'set', 'destroy', 'touch', 'patch'] as const) {
        expect(s.answersWithin(m)).toBe(300);
      }
      // Listings run several commands; a replaced method, no timeout or a custom (possibly
      // asynchronous) serializer promise nothing.
      expect(s.answersWithin('ids')).toBeUndefined();
      expect(s.answersWithin('clear')).toBeUndefined();
      s.get = (() => new Promise(() => undefined)) as never;
      expect(s.answersWithin('get')).toBeUndefined();
      expect(s.answersWithin('set')).toBe(300);
      expect(new RedisStore({ client, timeout: 0 }).answersWithin('get')).toBeUndefined();
      const serializer = { parse: JSON.parse, stringify: JSON.stringify };
      expect(new RedisStore({ client, serializer }).answersWithin('get')).toBeUndefined();
    });

    it('cuts off every command of a burst that Redis does not answer in time', async () => {
      const paused = redis.client();
      await ready(paused);
      const s = new RedisStore({ client: paused, timeout: 150 });
      await admin.client('PAUSE', 600, 'ALL');
      try {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            i % 2
              ? s.get(`burst-${i}`).catch((e: unknown) => e)
              : s.set(`burst-${i}`, newSession()).catch((e: unknown) => e),
          ),
        );
        for (const err of results) {
          expect(err).toBeInstanceOf(RedisStoreError);
          expect((err as RedisStoreError).code).toBe('ESTORETIMEOUT');
        }
      } finally {
        await admin.client('UNPAUSE');
        paused.disconnect();
      }
    });

    it('batchWrites: holds the socket corked until the end of the turn, then answers every command', async () => {
      expect(() => new RedisStore({ client, batchWrites: 'yes' as never })).toThrow(/batchWrites/);
      const own = redis.client();
      await ready(own);
      const batched = new RedisStore({ client: own, prefix: 'bw:' });
      expect(batched.batchWrites).toBe(true);
      const socket = (own as unknown as { stream: { writableCorked: number } }).stream;
      const sids = Array.from({ length: 20 }, () => newSid());
      const writes = sids.map((sid) => batched.set(sid, newSession({ n: sid })));
      expect(socket.writableCorked).toBe(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(socket.writableCorked).toBe(0);
      await Promise.all(writes);
      const read = await Promise.all(sids.map((sid) => batched.get(sid)));
      expect(read.map((r) => (r as { n?: string } | undefined)?.n)).toEqual(sids);
      const plain = new RedisStore({ client: own, prefix: 'bw:', batchWrites: false });
      const one = plain.get(sids[0]!);
      expect(socket.writableCorked).toBe(0);
      expect(((await one) as { n?: string }).n).toBe(sids[0]);
      await admin.del(...sids.map((sid) => `bw:${sid}`));
      own.disconnect();
    });

    it('does not forward connection events and close() leaves the client open', async () => {
      const s = new RedisStore({ client });
      expect(s.listenerCount('connect') + s.listenerCount('disconnect')).toBe(0);
      const events: string[] = [];
      s.on('disconnect', () => events.push('disconnect'));
      client.emit('close');
      client.emit('end');
      expect(events).toEqual([]);
      s.close();
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    });
  });

  describe('bad data reads as not found, is removed and warned about', () => {
    const cases: [string, (key: string) => Promise<unknown>, RegExp][] = [
      ['not JSON', (k) => admin.set(k, 'not json{'), /not a valid serialized session/],
      ['a JSON number', (k) => admin.set(k, '42'), /not a session object/],
      ['a JSON array', (k) => admin.set(k, '[1]'), /not a session object/],
      ['JSON null', (k) => admin.set(k, 'null'), /not a session object/],
      ['no cookie', (k) => admin.set(k, '{"user":"ada"}'), /has no cookie object/],
      ['a string cookie', (k) => admin.set(k, '{"cookie":"x"}'), /has no cookie object/],
      ['a hash (WRONGTYPE)', (k) => admin.hset(k, 'a', '1'), /wrong type/],
      ['a list (WRONGTYPE)', (k) => admin.rpush(k, 'a'), /wrong type/],
    ];
    it.each(cases)('%s', async (_label, write, message) => {
      const sid = newSid();
      const key = `sess:${sid}`;
      await write(key);
      const warnings: Error[] = [];
      store.on('warning', (w: Error) => warnings.push(w));
      try {
        await expect(store.get(sid)).resolves.toBeUndefined();
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toBeInstanceOf(Error);
        expect(warnings[0]?.message).toMatch(message);
        expect(warnings[0]?.message).toContain(key);
        for (let i = 0; i < 50 && (await admin.exists(key)); i++)
          await new Promise((r) => setTimeout(r, 10));
        expect(await admin.exists(key)).toBe(0);
      } finally {
        store.removeAllListeners('warning');
      }
    });

    it('a callback get of bad data calls back with nothing, not an error', async () => {
      const sid = newSid();
      await admin.set(`sess:${sid}`, 'garbage');
      store.on('warning', () => undefined);
      try {
        const result = await new Promise((resolve, reject) =>
          store.get(sid, (err, value) => (err ? reject(err) : resolve(value))),
        );
        expect(result).toBeUndefined();
      } finally {
        store.removeAllListeners('warning');
      }
    });

    it('all() skips bad records with a warning', async () => {
      const s = new RedisStore({ client, prefix: 'bad-all:' });
      await s.set('good', newSession({ ok: true }));
      await admin.set('bad-all:bad', 'nope');
      const warnings: Error[] = [];
      s.on('warning', (w: Error) => warnings.push(w));
      expect((await s.all()).map((x) => x.id)).toEqual(['good']);
      expect(warnings).toHaveLength(1);
      await s.clear();
    });
  });

  describe('errors', () => {
    it('a session that cannot be serialized fails the set with a clear error, nothing written', async () => {
      const sid = newSid();
      const err = await store.set(sid, newSession({ big: BigInt(1) })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisStoreError);
      expect((err as Error).message).toMatch(
        /^RedisStore set failed: cannot serialize the session/,
      );
      expect(await admin.exists(`sess:${sid}`)).toBe(0);
    });

    it('a closed client fails every operation with an Error naming it (promise and callback)', async () => {
      const closed = redis.client();
      await ready(closed);
      closed.disconnect();
      const s = new RedisStore({ client: closed, timeout: 500 });
      const ops: [string, () => Promise<unknown>][] = [
        ['get', () => s.get('x')],
        ['set', () => s.set('x', newSession())],
        ['touch', () => s.touch('x', newSession())],
        ['destroy', () => s.destroy('x')],
        ['ids', () => s.ids()],
        ['length', () => s.length()],
        ['all', () => s.all()],
        ['clear', () => s.clear()],
      ];
      for (const [name, op] of ops) {
        const err = await op().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RedisStoreError);
        expect((err as Error).message).toMatch(new RegExp(`^RedisStore ${name} failed: `));
      }
      const cbErr = await new Promise((resolve) => s.get('x', (e) => resolve(e)));
      expect((cbErr as Error).message).toMatch(/^RedisStore get failed: /);
    });
  });

  describe('through the express drop-in (Express 5, saveUninitialized: false)', () => {
    function app(options: Partial<session.SessionOptions> = {}) {
      const a = express();
      a.use(
        session({
          secret: 'keyboard cat',
          resave: false,
          saveUninitialized: false,
          store: new RedisStore({ client }),
          ...options,
        }),
      );
      a.get('/none', (_req, res) => {
        res.send('none');
      });
      a.get('/login', (req, res) => {
        sessionOf(req).user = 'ada';
        res.send('in');
      });
      a.get('/read', (req, res) => {
        res.send(String(sessionOf(req).user));
      });
      a.get('/logout', (req, res, next) => {
        sessionOf(req).destroy((err: unknown) => (err ? next(err) : res.send('out')));
      });
      return a;
    }

    // INFO commandstats counts the GET/SET a script runs as well as the EVALSHA itself: the
    // client sends one command per `evalsha` here.
    it('costs: no cookie 0, write 1 SET, read 1 EVALSHA (reads and refreshes, touchAfter 0 or not), destroy 2', async () => {
      const a = app({ cookie: { maxAge: 3_600_000 } });
      expect(await measure(() => request(a).get('/none').expect(200))).toEqual({});
      let cookie = '';
      expect(
        await measure(async () => {
          const res = await request(a).get('/login').expect(200);
          cookie = String(res.headers['set-cookie']).split(';')[0] as string;
        }),
      ).toEqual({ set: 1 });
      // A server that does not know the script yet (new, failed over, SCRIPT FLUSH) gets it
      // once through EVAL; the read still answers.
      await client.script('FLUSH');
      const first = await measure(() =>
        request(a).get('/read').set('Cookie', cookie).expect(200, 'ada'),
      );
      expect(first).toMatchObject({ eval: 1, get: 1 });
      // express-session's touchAfter 0: the read refreshes the expiry itself; a record written
      // less than a second ago needs no rewrite.
      expect(
        await measure(() => request(a).get('/read').set('Cookie', cookie).expect(200, 'ada')),
      ).toEqual({ evalsha: 1, get: 1 });
      const lazy = app({ cookie: { maxAge: 3_600_000 }, touchAfter: 60_000 });
      expect(
        await measure(() => request(lazy).get('/read').set('Cookie', cookie).expect(200, 'ada')),
      ).toEqual({ evalsha: 1, get: 1 });
      // An aged record (last written 10 minutes ago): the read rewrites its expiry inside the
      // same command, so the next reads within touchAfter find it fresh.
      const key = `sess:${
        decodeURIComponent(cookie.split('=')[1] as string)
          .slice(2)
          .split('.')[0]
      }`;
      const age = async () => {
        const aged = JSON.parse((await client.get(key)) as string);
        aged.cookie.expires = new Date(Date.parse(aged.cookie.expires) - 600_000).toISOString();
        await client.set(key, JSON.stringify(aged), 'EX', 3000);
      };
      for (const target of [lazy, a]) {
        await age();
        expect(
          await measure(() =>
            request(target).get('/read').set('Cookie', cookie).expect(200, 'ada'),
          ),
        ).toEqual({ evalsha: 1, get: 1, set: 1 });
        const stored = JSON.parse((await client.get(key)) as string);
        expect(Date.parse(stored.cookie.expires)).toBeGreaterThan(Date.now() + 3_590_000);
        expect(await client.pttl(key)).toBeGreaterThan(3_590_000);
        for (let i = 0; i < 2; i++) {
          expect(
            await measure(() =>
              request(target).get('/read').set('Cookie', cookie).expect(200, 'ada'),
            ),
          ).toEqual({ evalsha: 1, get: 1 });
        }
      }
      expect(
        await measure(() => request(a).get('/logout').set('Cookie', cookie).expect(200)),
      ).toEqual({ evalsha: 1, get: 1, del: 1, publish: 1 });
      expect(
        await measure(() => request(a).get('/read').set('Cookie', cookie).expect(200, 'undefined')),
      ).toEqual({ evalsha: 1, get: 1 });
    });

    it('the refresh in the read never resurrects, shortens or revives a record', async () => {
      const a = app({ cookie: { maxAge: 3_600_000 } });
      const res = await request(a).get('/login').expect(200);
      const cookie = String(res.headers['set-cookie']).split(';')[0] as string;
      const key = `sess:${
        decodeURIComponent(cookie.split('=')[1] as string)
          .slice(2)
          .split('.')[0]
      }`;
      const record = JSON.parse((await client.get(key)) as string);
      // A "remember me" record with a 30-day lifetime is not cut to the configured hour.
      const month = 30 * 86_400_000;
      const remembered = {
        ...record,
        cookie: {
          ...record.cookie,
          originalMaxAge: month,
          expires: new Date(Date.now() + month - 600_000).toISOString(),
        },
      };
      await client.set(key, JSON.stringify(remembered), 'EX', month / 1000);
      await request(a).get('/read').set('Cookie', cookie).expect(200, 'ada');
      expect(await client.ttl(key)).toBeGreaterThan(month / 1000 - 60);
      // A record whose own expiry has passed (its TTL kept alive by a plain EXPIRE) is not revived.
      const stale = {
        ...record,
        cookie: { ...record.cookie, expires: new Date(Date.now() - 1000).toISOString() },
      };
      await client.set(key, JSON.stringify(stale), 'EX', 3600);
      const before = (await client.get(key)) as string;
      await store.getAndTouch(key.slice(5), { maxAge: 3_600_000, margin: 1000 });
      expect(await client.get(key)).toBe(before);
      // A missing key stays missing.
      await client.del(key);
      const refresh: { maxAge: number; margin: number; refreshed?: boolean } = {
        maxAge: 3_600_000,
        margin: 1000,
      };
      await expect(store.getAndTouch(key.slice(5), refresh)).resolves.toBeUndefined();
      expect(await client.exists(key)).toBe(0);
      expect(refresh.refreshed).toBeUndefined();
    });

    it('getAndTouch of a browser-session cookie moves only the TTL, and only when due', async () => {
      const s = new RedisStore({ client, prefix: 'bs:', ttl: 600 });
      await s.set('b1', newSession({ a: 1 }, null));
      await client.pexpire('bs:b1', 100_000);
      const value = await client.get('bs:b1');
      const refresh: { maxAge: null; margin: number; refreshed?: boolean } = {
        maxAge: null,
        margin: 1000,
      };
      await s.getAndTouch('b1', refresh);
      expect(refresh.refreshed).toBe(true);
      expect(await client.pttl('bs:b1')).toBeGreaterThan(590_000);
      expect(await client.get('bs:b1')).toBe(value);
    });
  });
});

describe('RedisStore on a Redis Cluster (3 masters)', () => {
  let redis: RedisClusterHandle;
  let cluster: Cluster;
  let nodes: Redis[];

  beforeAll(async () => {
    redis = await startRedisCluster();
    cluster = redis.cluster();
    await ready(cluster);
    nodes = [0, 1, 2].map((i) => redis.nodeClient(i));
  });
  afterAll(() => redis.stop());

  it('spreads keys over every master; ids, length, all and clear cover all of them', async () => {
    const store = new RedisStore({ client: cluster, prefix: redis.prefix, scanCount: 10 });
    const sids = Array.from({ length: 60 }, (_, i) => `c${i}`);
    await Promise.all(sids.map((sid, i) => store.set(sid, newSession({ i }))));
    const perNode = await Promise.all(nodes.map((n) => n.dbsize()));
    expect(perNode.every((count) => count > 0)).toBe(true);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(60);
    expect((await store.ids()).sort()).toEqual([...sids].sort());
    expect(await store.length()).toBe(60);
    const all = await store.all();
    expect(all).toHaveLength(60);
    expect(all.find((s) => s.id === 'c7')?.i).toBe(7);
    await store.clear();
    expect(await store.length()).toBe(0);
    expect(await Promise.all(nodes.map((n) => n.dbsize()))).toEqual([0, 0, 0]);
  });

  it('one command per operation on the cluster too', async () => {
    const store = new RedisStore({ client: cluster, prefix: redis.prefix });
    const measure = async (fn: () => Promise<unknown>) => {
      const before = await commandStats(nodes);
      await fn();
      return commandDelta(before, await commandStats(nodes));
    };
    const sid = newSid();
    expect(await measure(() => store.set(sid, newSession()))).toEqual({ set: 1 });
    expect(await measure(() => store.get(sid))).toEqual({ get: 1 });
    expect(await measure(() => store.touch(sid, newSession()))).toEqual({ expire: 1 });
    expect(await measure(() => store.destroy(sid))).toEqual({ del: 1, publish: 1 });
  });
});
