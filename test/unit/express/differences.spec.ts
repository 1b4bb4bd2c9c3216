/**
 * Deliberate differences between nest-session/express and express-session 1.19
 * (fixes for the weaknesses listed in section 8 of the behaviour spec).
 */
process.env.NO_DEPRECATION = 'express-session';

import { EventEmitter } from 'node:events';
import express = require('express');
import request = require('supertest');
import {
  attributes,
  cookie,
  createServer,
  createTestStore,
  delay,
  nextTick,
  opts,
  record,
  sessionCookie,
  setCookies,
  sid,
  signedCookie,
  waitFor,
} from '../../support/express-helpers';
import session = require('../../../lib/express');

async function settle(): Promise<void> {
  await nextTick();
  await nextTick();
}

describe("1. function-form cookie resolves 'auto' per request", () => {
  it("secure: 'auto' from the function is false over plain HTTP (cookie sent, no Secure)", async () => {
    let secure: any;
    const server = createServer(opts({ cookie: () => ({ secure: 'auto' }) }), (req, res) => {
      secure = req.session.cookie.secure;
      res.end();
    });
    const res = await request(server).get('/');
    expect(sessionCookie(res)).toBeDefined();
    expect(attributes(res)).not.toContain('Secure');
    expect(secure).toBe(false);
  });

  it("secure: 'auto' from the function is true over HTTPS (proxy)", async () => {
    let secure: any;
    const server = createServer(
      opts({ proxy: true, cookie: () => ({ secure: 'auto' }) }),
      (req, res) => {
        secure = req.session.cookie.secure;
        res.end();
      },
    );
    const res = await request(server).get('/').set('X-Forwarded-Proto', 'https');
    expect(attributes(res)).toContain('Secure');
    expect(secure).toBe(true);
  });

  it("sameSite: 'auto' from the function gives Lax over HTTP, without any error", async () => {
    const server = createServer(opts({ cookie: () => ({ sameSite: 'auto' }) }));
    const res = await request(server).get('/').expect(200);
    expect(attributes(res)).toContain('SameSite=Lax');
    await settle();
    expect(server.errors).toHaveLength(0);
  });

  it("sameSite: 'auto' from the function gives None over HTTPS", async () => {
    const server = createServer(
      opts({ proxy: true, cookie: () => ({ sameSite: 'auto', secure: 'auto' }) }),
    );
    const res = await request(server).get('/').set('X-Forwarded-Proto', 'https');
    expect(attributes(res)).toEqual(['Path=/', 'HttpOnly', 'Secure', 'SameSite=None']);
  });

  it('the cookie function is called at most once per request', async () => {
    let calls = 0;
    const server = createServer(
      opts({
        cookie: () => {
          calls++;
          return { maxAge: 60000, path: '/' };
        },
      }),
      (req, res) => {
        req.session.v = 1;
        res.end();
      },
    );
    calls = 0;
    const r1 = await request(server).get('/');
    expect(calls).toBe(1);
    calls = 0;
    await request(server).get('/').set('Cookie', cookie(r1));
    expect(calls).toBeLessThanOrEqual(1);
    calls = 0;
    await request(server).get('/').set('Cookie', signedCookie('unknown'));
    expect(calls).toBe(1);
    calls = 0;
    const server2 = createServer(
      opts({
        cookie: () => {
          calls++;
          return { path: '/' };
        },
      }),
      (req, res) => req.session.regenerate(() => res.end()),
    );
    await request(server2).get('/');
    // regenerate builds another cookie for the new session; still no duplicate per generation
    expect(calls).toBeLessThanOrEqual(2);
  });
});

describe("2. unset: 'destroy' does not destroy a session that failed to load", () => {
  it('leaves the stored session alone when store.get failed', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    store.failOn.get = new Error('get failed');
    const server = createServer(opts({ store, unset: 'destroy' }));
    const res = await request(server).get('/').set('Cookie', signedCookie('s1'));
    expect(res.status).toBe(500);
    expect(res.text).toBe('get failed');
    await settle();
    expect(store.calls.destroy).toBe(0);
    expect(store.read('s1')).toEqual(record({ v: 1 }));
  });

  it('still destroys a loaded session set to null', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    const server = createServer(opts({ store, unset: 'destroy' }), (req, res) => {
      req.session = null;
      res.end();
    });
    await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(store.read('s1')).toBeUndefined();
  });
});

describe('3. regenerate + explicit save writes once', () => {
  it('exactly one store.set for regenerate then save', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    const server = createServer(opts({ store }), (req, res) => {
      req.session.regenerate(() => {
        req.session.user = 'bob';
        req.session.save(() => res.end(req.sessionID));
      });
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('s1'));
    await settle();
    expect(store.calls.set).toBe(1);
    expect(store.read(res.text).user).toBe('bob');
    expect(sid(res)).toBe(res.text);
  });

  it('also for a brand-new session', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, saveUninitialized: false }), (req, res) => {
      req.session.regenerate(() => {
        req.session.user = 'bob';
        req.session.save(() => res.end());
      });
    });
    const res = await request(server).get('/');
    await settle();
    expect(store.calls.set).toBe(1);
    expect(sessionCookie(res)).toBeDefined();
  });

  it('a change after the explicit save is still saved at the end', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), (req, res) => {
      req.session.regenerate(() => {
        req.session.user = 'bob';
        req.session.save(() => {
          req.session.late = true;
          res.end(req.sessionID);
        });
      });
    });
    const res = await request(server).get('/');
    await settle();
    expect(store.calls.set).toBe(2);
    expect(store.read(res.text)).toMatchObject({ user: 'bob', late: true });
  });

  it('a regenerated session that is saved but reloaded keeps working', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), (req, res) => {
      req.session.regenerate(() => {
        req.session.user = 'bob';
        req.session.save(() => {
          req.session.reload((err: any) => res.end(err ? err.message : String(req.session.user)));
        });
      });
    });
    await request(server).get('/').expect('bob');
    await settle();
    expect(store.calls.set).toBe(1);
  });
});

describe('4. sessions whose cookie was never sent are not stored', () => {
  it('secure cookie on plain HTTP (no proxy): nothing stored', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, cookie: { secure: true } }), (req, res) => {
      req.session.user = 'bob';
      res.end('ok');
    });
    const res = await request(server).get('/').expect(200, 'ok');
    expect(setCookies(res)).toHaveLength(0);
    await settle();
    expect(store.length()).toBe(0);
    expect(store.calls.set).toBe(0);
  });

  it('secure cookie on plain HTTP with the default MemoryStore: store stays empty', async () => {
    const store = new session.MemoryStore() as any;
    try {
      const server = createServer(opts({ store, cookie: { secure: true } }));
      await request(server).get('/').expect(200);
      await settle();
      expect(await new Promise((r) => store.length((_e: any, n: number) => r(n)))).toBe(0);
    } finally {
      store.close?.();
    }
  });

  it('secure cookie over HTTPS (proxy) is stored as usual', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, proxy: true, cookie: { secure: true } }));
    const res = await request(server).get('/').set('X-Forwarded-Proto', 'https');
    expect(sessionCookie(res)).toBeDefined();
    await settle();
    expect(store.length()).toBe(1);
  });

  it('a new session modified only after the headers were flushed is not stored', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, saveUninitialized: false }), (req, res) => {
      res.write('head ');
      req.session.user = 'late';
      res.end('tail');
    });
    const res = await request(server).get('/').expect(200, 'head tail');
    expect(setCookies(res)).toHaveLength(0);
    await settle();
    expect(store.length()).toBe(0);
    expect(store.calls.set).toBe(0);
  });

  it('a new session modified before the flush is stored and sent', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, saveUninitialized: false }), (req, res) => {
      req.session.user = 'early';
      res.write('head ');
      res.end('tail');
    });
    const res = await request(server).get('/').expect(200, 'head tail');
    expect(sessionCookie(res)).toBeDefined();
    await settle();
    expect(store.read(sid(res)!).user).toBe('early');
  });
});

describe('5. res.end callbacks are honoured', () => {
  it('res.end(data, "utf8", cb) calls cb while a store write is pending', async () => {
    const store = createTestStore();
    store.delay = 40;
    let called = 0;
    const server = createServer(opts({ store }), (_req, res) => {
      res.end('hello', 'utf8', () => called++);
    });
    await request(server).get('/').expect(200, 'hello');
    await waitFor(() => called > 0, 500);
    expect(called).toBe(1);
    expect(store.length()).toBe(1);
  });

  it('res.end(cb) calls cb and completes while a store write is pending', async () => {
    const store = createTestStore();
    store.delay = 40;
    let called = 0;
    const server = createServer(opts({ store }), (_req, res) => {
      res.statusCode = 200;
      res.end(() => called++);
    });
    const res = await request(server).get('/').expect(200);
    expect(res.text).toBe('');
    await waitFor(() => called > 0, 500);
    expect(called).toBe(1);
    await settle();
    expect(server.errors).toHaveLength(0);
  });

  it('res.end(data, cb) calls cb', async () => {
    let called = 0;
    const server = createServer(opts(), (_req, res) => {
      res.end('x', () => called++);
    });
    await request(server).get('/').expect(200, 'x');
    await waitFor(() => called > 0, 500);
    expect(called).toBe(1);
  });

  it('res.end(cb) with a Content-Length body written before works', async () => {
    const store = createTestStore();
    store.delay = 20;
    let called = 0;
    const server = createServer(opts({ store }), (_req, res) => {
      res.setHeader('Content-Length', '5');
      res.write('hello');
      res.end(() => called++);
    });
    await request(server).get('/').expect(200, 'hello');
    await waitFor(() => called > 0, 500);
    expect(called).toBe(1);
  });

  it('res.end(cb) without a session (path mismatch) calls cb', async () => {
    let called = 0;
    const server = createServer(opts({ cookie: { path: '/x' } }), (_req, res) => {
      res.end(() => called++);
    });
    await request(server).get('/y').expect(200);
    await waitFor(() => called > 0, 500);
    expect(called).toBe(1);
  });
});

describe('6. unserializable session data does not hang the request', () => {
  it.each([
    ['BigInt', (s: any) => (s.big = BigInt(1))],
    [
      'circular',
      (s: any) => {
        const o: any = { name: 'loop' };
        o.self = o;
        s.loop = o;
      },
    ],
  ])('%s on a new session: response finishes and next(err) is called', async (_n, poison) => {
    const server = createServer(opts(), (req, res) => {
      poison(req.session);
      res.end('body');
    });
    const res = await request(server).get('/').timeout(3000);
    expect(res.status).toBeGreaterThanOrEqual(200);
    await waitFor(() => server.errors.length > 0, 1000);
    expect(server.errors[0]).toBeInstanceOf(Error);
  });

  it.each([
    ['BigInt', (s: any) => (s.big = BigInt(1))],
    [
      'circular',
      (s: any) => {
        s.me = s;
      },
    ],
  ])('%s on a loaded session: response finishes and next(err) is called', async (_n, poison) => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    const server = createServer(opts({ store }), (req, res) => {
      poison(req.session);
      res.end('body');
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('s1')).timeout(3000);
    expect(res.status).toBeGreaterThanOrEqual(200);
    await waitFor(() => server.errors.length > 0, 1000);
    expect(server.errors[0]).toBeInstanceOf(Error);
    expect(store.read('s1')).toEqual(record({ v: 1 }));
  });

  it('BigInt after the body was started: response finishes and error is reported', async () => {
    const server = createServer(opts(), (req, res) => {
      res.write('part ');
      req.session.big = BigInt(2);
      res.end('end');
    });
    const res = await request(server).get('/').timeout(3000);
    expect(res.status).toBe(200);
    await waitFor(() => server.errors.length > 0, 1000);
    expect(server.errors[0]).toBeInstanceOf(Error);
  });

  it('in an Express app the error handler gets the error and the response finishes', async () => {
    const errors: any[] = [];
    const app = express();
    app.use(session(opts()) as any);
    app.get('/', (req: any, res) => {
      req.session.big = BigInt(3);
      res.send('body');
    });
    app.use((err: any, _req: any, res: any, _next: any) => {
      errors.push(err);
      if (!res.headersSent) res.status(500).send('err');
    });
    const res = await request(app).get('/').timeout(3000);
    expect(res.status).toBeGreaterThanOrEqual(200);
    await waitFor(() => errors.length > 0, 1000);
    expect(errors[0]).toBeInstanceOf(Error);
  });
});

describe('7. storeTimeout', () => {
  function hangingStore() {
    const store = createTestStore();
    store.get = () => {
      /* never calls back */
    };
    return store;
  }

  it('a get that never answers fails the request with a 500 within about storeTimeout', async () => {
    const store = hangingStore();
    const server = createServer(opts({ store, storeTimeout: 200 }));
    const start = Date.now();
    const res = await request(server).get('/').set('Cookie', signedCookie('s1')).timeout(5000);
    const elapsed = Date.now() - start;
    expect(res.status).toBe(500);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1500);
    expect(server.errors).toHaveLength(1);
    expect(server.errors[0]).toBeInstanceOf(Error);
  });

  it('in an Express app the timeout goes through next(err) (500)', async () => {
    const store = hangingStore();
    const errors: any[] = [];
    const app = express();
    app.use(session(opts({ store, storeTimeout: 200 })) as any);
    app.get('/', (_req, res) => res.send('unreachable'));
    app.use((err: any, _req: any, res: any, _next: any) => {
      errors.push(err);
      res.status(500).send('timeout: ' + err.message);
    });
    const start = Date.now();
    const res = await request(app).get('/').set('Cookie', signedCookie('s1')).timeout(5000);
    expect(res.status).toBe(500);
    expect(Date.now() - start).toBeLessThan(1500);
    expect(errors).toHaveLength(1);
  });

  it('a store that answers in time is unaffected (no late error)', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 'ok' }));
    const server = createServer(opts({ store, storeTimeout: 200 }), (req, res) =>
      res.end(String(req.session.v)),
    );
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect(200, 'ok');
    await delay(250);
    expect(server.errors).toHaveLength(0);
  });
});

describe('8. MemoryStore pruning, max and close', () => {
  const count = (store: any) => Object.keys(store.sessions).length;
  const expiring = (ms: number, extra: Record<string, unknown> = {}) => ({
    cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms).toISOString() },
    ...extra,
  });

  it('removes expired sessions on a timer without reading them', async () => {
    const store: any = new session.MemoryStore({ pruneInterval: 20 });
    try {
      await store.set('short', expiring(30));
      await store.set('long', expiring(60000));
      expect(count(store)).toBe(2);
      await waitFor(() => count(store) === 1, 300);
      expect(Object.keys(store.sessions)).toEqual(['long']);
    } finally {
      store.close();
    }
  });

  it('the prune timer does not keep the process alive', () => {
    const timers = () =>
      process.getActiveResourcesInfo().filter((r: string) => r === 'Timeout').length;
    const before = timers();
    const store: any = new session.MemoryStore({ pruneInterval: 10 });
    try {
      expect(timers()).toBe(before);
    } finally {
      store.close();
    }
  });

  it('close() stops the timer', async () => {
    const store: any = new session.MemoryStore({ pruneInterval: 10 });
    store.close();
    await store.set('short', expiring(10));
    await delay(60);
    expect(count(store)).toBe(1);
    // still expired on read
    expect(await store.get('short')).toBeUndefined();
  });

  it('max bounds the number of sessions, evicting the least recently used', async () => {
    const store: any = new session.MemoryStore({ max: 2 });
    try {
      await store.set('a', expiring(60000, { v: 'a' }));
      await store.set('b', expiring(60000, { v: 'b' }));
      expect((await store.get('a')).v).toBe('a'); // a is now more recent than b
      await store.set('c', expiring(60000, { v: 'c' }));
      expect(await store.length()).toBe(2);
      expect(await store.get('b')).toBeUndefined();
      expect((await store.get('a')).v).toBe('a');
      expect((await store.get('c')).v).toBe('c');
    } finally {
      store.close();
    }
  });

  it('max: set on an existing ID refreshes it without evicting', async () => {
    const store: any = new session.MemoryStore({ max: 2 });
    try {
      await store.set('a', expiring(60000));
      await store.set('b', expiring(60000));
      await store.set('a', expiring(60000, { again: true }));
      expect(await store.length()).toBe(2);
      await store.set('c', expiring(60000));
      expect(await store.get('b')).toBeUndefined();
      expect((await store.get('a')).again).toBe(true);
    } finally {
      store.close();
    }
  });

  it('max works through the middleware', async () => {
    const store: any = new session.MemoryStore({ max: 2 });
    try {
      const server = createServer(opts({ store }));
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(sid(await request(server).get('/'))!);
      await settle();
      expect(await store.length()).toBe(2);
      expect(await store.get(ids[0]!)).toBeUndefined();
    } finally {
      store.close();
    }
  });
});

describe('9. promise-like Session methods and awaitable MemoryStore', () => {
  it('await req.session.save() stores the session', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), async (req, res) => {
      req.session.user = 'bob';
      await req.session.save();
      res.end(store.read(req.sessionID) ? store.read(req.sessionID).user : 'not saved');
    });
    await request(server).get('/').expect('bob');
  });

  it('await req.session.save() rejects on store error', async () => {
    const store = createTestStore();
    store.failOn.set = new Error('save failed');
    const server = createServer(opts({ store }), async (req, res) => {
      try {
        await req.session.save();
        res.end('resolved');
      } catch (e: any) {
        res.end('rejected: ' + e.message);
      }
    });
    await request(server).get('/').expect('rejected: save failed');
  });

  it('await req.session.reload() loads fresh data and rejects when missing', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    const server = createServer(opts({ store }), async (req, res) => {
      store.write('s1', record({ v: 2 }));
      await req.session.reload();
      const v = req.session.v;
      store.data.delete('s1');
      try {
        await req.session.reload();
        res.end('resolved');
      } catch (e: any) {
        res.end(v + ':' + e.message);
      }
    });
    await request(server)
      .get('/')
      .set('Cookie', signedCookie('s1'))
      .expect('2:failed to load session');
  });

  it('await req.session.regenerate() gives a new session', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    const server = createServer(opts({ store }), async (req, res) => {
      await req.session.regenerate();
      res.end(req.sessionID + ':' + String(req.session.v));
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('s1'));
    const [id, v] = res.text.split(':');
    expect(id).not.toBe('s1');
    expect(v).toBe('undefined');
    expect(sid(res)).toBe(id);
    await settle();
    expect(store.read('s1')).toBeUndefined();
  });

  it('await req.session.destroy() removes the session; rejects on error', async () => {
    const store = createTestStore();
    store.write('s1', record({ v: 1 }));
    store.write('s2', record({ v: 2 }));
    const server = createServer(opts({ store }), async (req, res) => {
      try {
        if (req.sessionID === 's2') store.failOn.destroy = new Error('destroy failed');
        await req.session.destroy();
        res.end('destroyed:' + String(req.session));
      } catch (e: any) {
        res.end('rejected: ' + e.message);
      }
    });
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect('destroyed:undefined');
    expect(store.read('s1')).toBeUndefined();
    await request(server)
      .get('/')
      .set('Cookie', signedCookie('s2'))
      .expect('rejected: destroy failed');
  });

  it('a bare Session returns a thenable from save() without callback', async () => {
    const store = createTestStore();
    const req: any = { sessionID: 'bare', sessionStore: store };
    const s: any = new session.Session(req, { cookie: new session.Cookie(), v: 1 });
    const p = s.save();
    expect(typeof p.then).toBe('function');
    await p;
    expect(store.read('bare').v).toBe(1);
  });

  it('with a callback, the methods still return the session', async () => {
    const store = createTestStore();
    const out: boolean[] = [];
    const server = createServer(opts({ store }), (req, res) => {
      const s = req.session;
      out.push(s.save(() => {}) === s);
      out.push(s.regenerate(() => res.end()) === s);
    });
    await request(server).get('/');
    expect(out).toEqual([true, true]);
  });

  it('the promise-like supports chaining: save().touch() and friends', async () => {
    const store = createTestStore();
    let info: any;
    const server = createServer(opts({ store, cookie: { maxAge: 60000 } }), async (req, res) => {
      const s = req.session;
      s.cookie.expires = new Date(Date.now() + 10);
      s.cookie.originalMaxAge = 60000;
      const p = s.save();
      const isThenable = typeof p.then === 'function';
      const t = p.touch();
      const afterTouch = s.cookie.maxAge;
      p.resetMaxAge();
      const kinds = ['save', 'reload', 'destroy', 'regenerate'].map((m) => typeof p[m]);
      await p;
      await t;
      info = { isThenable, afterTouch, kinds };
      res.end();
    });
    await request(server).get('/');
    expect(info.isThenable).toBe(true);
    expect(info.afterTouch).toBeGreaterThan(59000);
    expect(info.kinds).toEqual(['function', 'function', 'function', 'function']);
  });

  it('save().save() chains a second save through the session', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), async (req, res) => {
      req.session.a = 1;
      await req.session.save().save();
      res.end(String(store.calls.set));
    });
    await request(server).get('/').expect('2');
  });

  it('every MemoryStore method works with await', async () => {
    const store: any = new session.MemoryStore();
    try {
      const c = new session.Cookie({ maxAge: 60000 }) as any;
      await store.set('a', { cookie: c, v: 1 });
      await store.set('b', { cookie: c, v: 2 });
      expect((await store.get('a')).v).toBe(1);
      expect(await store.get('missing')).toBeUndefined();
      expect(await store.length()).toBe(2);
      const all = await store.all();
      expect(Object.keys(all).sort()).toEqual(['a', 'b']);
      const later = new session.Cookie({ maxAge: 120000 }) as any;
      await store.touch('a', { cookie: later, v: 'ignored' });
      const a = await store.get('a');
      expect(a.v).toBe(1);
      expect(a.cookie.originalMaxAge).toBe(120000);
      await store.destroy('a');
      expect(await store.get('a')).toBeUndefined();
      await store.clear();
      expect(await store.length()).toBe(0);
    } finally {
      store.close();
    }
  });
});

describe('10. duck-typed stores', () => {
  it('a plain EventEmitter with get/set/destroy callbacks works', async () => {
    const data = new Map<string, string>();
    const store: any = Object.assign(new EventEmitter(), {
      get(id: string, cb: any) {
        const v = data.get(id);
        setImmediate(() => cb(null, v ? JSON.parse(v) : undefined));
      },
      set(id: string, s: any, cb: any) {
        data.set(id, JSON.stringify(s));
        setImmediate(() => cb && cb());
      },
      destroy(id: string, cb: any) {
        data.delete(id);
        setImmediate(() => cb && cb());
      },
    });
    const server = createServer(opts({ store }), (req, res) => {
      if (req.url === '/regen') {
        req.session.regenerate((err: any) => res.end(err ? 'err' : 'regen:' + req.sessionID));
        return;
      }
      if (req.url === '/reload') {
        req.session.reload((err: any) => res.end(err ? err.message : 'n=' + req.session.n));
        return;
      }
      req.session.n = (req.session.n || 0) + 1;
      res.end('n=' + req.session.n);
    });
    const r1 = await request(server).get('/').expect('n=1');
    expect(sessionCookie(r1)).toBeDefined();
    await request(server).get('/').set('Cookie', cookie(r1)).expect('n=2');
    await request(server).get('/reload').set('Cookie', cookie(r1)).expect('n=2');
    const r4 = await request(server).get('/regen').set('Cookie', cookie(r1));
    expect(r4.text).toMatch(/^regen:/);
    expect(r4.text).not.toBe('regen:' + sid(r1));
    await settle();
    expect(data.has(sid(r1)!)).toBe(false);
    expect(data.has(r4.text.slice('regen:'.length))).toBe(true);
  });

  it('a store with promise-returning methods that ignore callbacks works', async () => {
    const data = new Map<string, string>();
    let touched = 0;
    class PromiseStore extends EventEmitter {
      async get(id: string) {
        await delay(1);
        const v = data.get(id);
        return v ? JSON.parse(v) : null;
      }
      async set(id: string, s: any) {
        await delay(1);
        data.set(id, JSON.stringify(s));
      }
      async destroy(id: string) {
        await delay(1);
        data.delete(id);
      }
      async touch() {
        touched++;
      }
    }
    const store = new PromiseStore();
    const server = createServer(opts({ store, resave: false }), (req, res) => {
      if (req.url === '/read') return res.end('n=' + req.session.n);
      req.session.n = (req.session.n || 0) + 1;
      res.end('n=' + req.session.n);
    });
    const r1 = await request(server).get('/').expect('n=1');
    expect(data.size).toBe(1);
    await request(server).get('/').set('Cookie', cookie(r1)).expect('n=2');
    await request(server).get('/read').set('Cookie', cookie(r1)).expect('n=2');
    await settle();
    expect(touched).toBe(1);
    expect(JSON.parse(data.get(sid(r1)!)!).n).toBe(2);
  });

  it('a rejected promise from get becomes a 500 through next(err)', async () => {
    const store: any = Object.assign(new EventEmitter(), {
      async get() {
        throw new Error('promise get failed');
      },
      async set() {},
      async destroy() {},
    });
    const server = createServer(opts({ store }));
    await request(server)
      .get('/')
      .set('Cookie', signedCookie('x'))
      .expect(500, 'promise get failed');
  });

  it('a rejected promise from set reaches next(err) and the response completes', async () => {
    const store: any = Object.assign(new EventEmitter(), {
      async get() {
        return null;
      },
      async set() {
        throw new Error('promise set failed');
      },
      async destroy() {},
    });
    const server = createServer(opts({ store }), (_req, res) => res.end('body'));
    await request(server).get('/').expect(200, 'body');
    await waitFor(() => server.errors.length > 0, 500);
    expect(server.errors[0].message).toBe('promise set failed');
  });
});

describe('11. MemoryStore answers within the same turn of the event loop', () => {
  it('calls back after the current code, before anything scheduled with setImmediate', async () => {
    const store: any = new session.MemoryStore({ pruneInterval: 0 });
    await new Promise((resolve) => store.set('a', { cookie: { expires: null } }, resolve));
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        order.push('immediate');
        resolve();
      });
      store.get('a', () => order.push('get'));
      order.push('sync');
    });
    expect(order).toEqual(['sync', 'get', 'immediate']);
    store.close();
  });
});
