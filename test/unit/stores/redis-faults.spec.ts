/**
 * RedisStore under faults, always on a private redis-server (the tests kill, pause and starve it):
 * Redis down and back, Redis frozen (CLIENT PAUSE), Redis refusing writes (maxmemory/noeviction).
 * Every operation must fail within `timeout` with a clear error, and work again once Redis is
 * back, on the same store and client.
 */
process.env.NO_DEPRECATION = 'express-session';

import express from 'express';
import request from 'supertest';
import type { Redis } from 'ioredis';
import session = require('../../../lib/express');
import { RedisStore, RedisStoreError } from '../../../lib/stores/redis/redis-store';
import { ready, startRedis, type RedisHandle } from '../../support/redis-server';
import { newSession, newSid, sessionOf } from '../../support/store-contract';

const TIMEOUT = 500;
/** Slack for timer and event-loop latency on a busy machine. */
const SLACK = 400;

async function timed<T>(op: () => Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const start = Date.now();
  try {
    const value = await op();
    return { ms: Date.now() - start, value };
  } catch (error) {
    return { ms: Date.now() - start, error };
  }
}

/** Retries `op` every 50 ms until it succeeds; resolves with the time it took. */
async function untilSuccess(op: () => Promise<unknown>, limitMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    try {
      await op();
      return Date.now() - start;
    } catch (err) {
      if (Date.now() - start > limitMs) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const timings: Record<string, number> = {};

describe('RedisStore faults (private redis-server)', () => {
  let redis: RedisHandle;
  let client: Redis;
  let store: RedisStore;

  beforeAll(async () => {
    redis = await startRedis({ requirePrivate: true });
    client = redis.client();
    await ready(client);
    store = new RedisStore({ client, timeout: TIMEOUT });
  });
  afterAll(async () => {
    await redis.stop();
    // Printed for the report: time to fail and to recover.
    process.stdout.write(`redis fault timings (ms): ${JSON.stringify(timings)}\n`);
  });

  it('Redis down: every operation fails within timeout; back up: they succeed again', async () => {
    const sid = newSid();
    await store.set(sid, newSession({ n: 1 }));
    await redis.down();

    const ops: [string, () => Promise<unknown>][] = [
      ['get', () => store.get(sid)],
      ['set', () => store.set(newSid(), newSession())],
      ['touch', () => store.touch(sid, newSession())],
      ['destroy', () => store.destroy(newSid())],
      ['ids', () => store.ids()],
      ['length', () => store.length()],
      ['all', () => store.all()],
      ['clear', () => store.clear()],
    ];
    const results = await Promise.all(ops.map(([, op]) => timed(op)));
    results.forEach((r, i) => {
      const name = ops[i]?.[0] as string;
      expect(r.error).toBeInstanceOf(RedisStoreError);
      expect((r.error as Error).message).toMatch(new RegExp(`^RedisStore ${name} failed: `));
      expect(r.ms).toBeLessThan(TIMEOUT + SLACK);
    });
    timings.downMaxFailMs = Math.max(...results.map((r) => r.ms));

    // The callback style reports the same error.
    const cb = await timed(
      () =>
        new Promise((resolve, reject) =>
          store.get(sid, (err, value) => (err ? reject(err) : resolve(value))),
        ),
    );
    expect((cb.error as Error).message).toMatch(/^RedisStore get failed: /);

    // Stays down for a while: operations keep failing fast (no build-up).
    await new Promise((r) => setTimeout(r, 700));
    const later = await timed(() => store.get(sid));
    expect(later.error).toBeInstanceOf(RedisStoreError);
    expect(later.ms).toBeLessThan(TIMEOUT + SLACK);

    const upAt = Date.now();
    await redis.up();
    timings.serverRestartMs = Date.now() - upAt;
    const fresh = newSid();
    timings.recoveryAfterRestartMs = await untilSuccess(
      () => store.set(fresh, newSession({ back: true })),
      10_000,
    );
    // Same store, same client: everything works again.
    expect((await store.get(fresh))?.back).toBe(true);
    await store.touch(fresh, newSession());
    expect(await store.ids()).toContain(fresh);
    await store.destroy(fresh);
    expect(await store.get(fresh)).toBeUndefined();
  });

  it('with the default timeout (2000 ms) a dead Redis fails in about 2 s, not ioredis’s ~10 s', async () => {
    const s = new RedisStore({ client });
    await redis.down();
    try {
      const r = await timed(() => s.get('x'));
      timings.defaultTimeoutFailMs = r.ms;
      expect(r.error).toBeInstanceOf(RedisStoreError);
      expect(r.ms).toBeGreaterThanOrEqual(1_900);
      expect(r.ms).toBeLessThan(2_000 + SLACK);
    } finally {
      await redis.up();
      await untilSuccess(() => s.get('x'), 10_000);
    }
  });

  it('Redis frozen (CLIENT PAUSE): operations time out, then succeed after the pause', async () => {
    const sid = newSid();
    await store.set(sid, newSession({ n: 1 }));
    const admin = redis.client();
    await ready(admin);
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    const pausedAt = Date.now();
    const [get, set] = await Promise.all([
      timed(() => store.get(sid)),
      timed(() => store.set(sid, newSession({ n: 2 }))),
    ]);
    for (const r of [get, set]) {
      expect(r.error).toBeInstanceOf(RedisStoreError);
      expect((r.error as RedisStoreError).code).toBe('ESTORETIMEOUT');
      expect((r.error as Error).message).toMatch(/did not answer within 500 ms/);
      expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT - 20);
      expect(r.ms).toBeLessThan(TIMEOUT + SLACK);
    }
    timings.pausedFailMs = Math.max(get.ms, set.ms);
    timings.recoveryAfterPauseMs = await untilSuccess(() => store.get(sid), 5_000);
    timings.pauseToRecoveryMs = Date.now() - pausedAt;
    // The timed-out SET was delivered before the pause took hold of it or after it: either way
    // the record is one of the two complete values, never a partial one.
    expect([1, 2]).toContain((await store.get(sid))?.n);
  });

  it('Redis out of memory (maxmemory + noeviction): set fails clearly, nothing half-written', async () => {
    const admin = redis.client();
    await ready(admin);
    const existing = newSid();
    await store.set(existing, newSession({ v: 'before' }));
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      const fresh = newSid();
      const r = await timed(() => store.set(fresh, newSession({ v: 'new' })));
      expect(r.error).toBeInstanceOf(RedisStoreError);
      expect((r.error as Error).message).toMatch(/^RedisStore set failed: OOM command not allowed/);
      expect(r.ms).toBeLessThan(TIMEOUT);
      expect(await admin.exists(`sess:${fresh}`)).toBe(0);
      const overwrite = await timed(() => store.set(existing, newSession({ v: 'after' })));
      expect((overwrite.error as Error).message).toMatch(/^RedisStore set failed: OOM/);
      // Reads, touches and destroys still work; the stored value is the old one, whole.
      expect((await store.get(existing))?.v).toBe('before');
      await store.touch(existing, newSession());
      await store.destroy(existing);
      expect(await store.get(existing)).toBeUndefined();
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    const again = newSid();
    await store.set(again, newSession({ v: 'ok' }));
    expect((await store.get(again))?.v).toBe('ok');
  });

  it('through the express drop-in: Redis down gives an error response in time, then recovers', async () => {
    const app = express();
    app.use(
      session({
        secret: 'keyboard cat',
        resave: false,
        saveUninitialized: false,
        store,
        cookie: { maxAge: 60_000 },
      }),
    );
    app.get('/login', (req, res) => {
      sessionOf(req).user = 'ada';
      res.send('in');
    });
    app.get('/read', (req, res) => {
      res.send(String(sessionOf(req).user));
    });
    // Express 5's default error handler answers 500 with the message in development.
    const login = await request(app).get('/login').expect(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0] as string;
    await redis.down();
    try {
      const start = Date.now();
      const res = await request(app).get('/read').set('Cookie', cookie);
      timings.expressFailMs = Date.now() - start;
      expect(res.status).toBe(500);
      expect(res.text).toMatch(/RedisStore get failed/);
      expect(timings.expressFailMs).toBeLessThan(TIMEOUT + SLACK);
    } finally {
      await redis.up();
    }
    // Non-persistent test server: the session is gone after the restart; a new login works.
    await untilSuccess(() => store.get('probe'), 10_000);
    await request(app).get('/read').set('Cookie', cookie).expect(200, 'undefined');
    const relog = await request(app).get('/login').expect(200);
    const cookie2 = String(relog.headers['set-cookie']).split(';')[0] as string;
    await request(app).get('/read').set('Cookie', cookie2).expect(200, 'ada');
  });
});
