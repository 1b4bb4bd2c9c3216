/**
 * The engine options that go beyond express-session (used by the Nest module's defaults, and
 * available to the drop-in): isValidId, duplicate cookies, resignCookies, clearCookieOnDestroy,
 * strictWrites, discardInvalidRecords, touchAfter, and the orphan rule.
 */
process.env.NO_DEPRECATION = 'express-session';
import { EventEmitter } from 'node:events';
import request from 'supertest';
import session = require('../../../lib/express');
import { generateSessionId, isDefaultSessionId } from '../../../lib/engine/session-id';
import {
  cookie,
  createServer,
  sessionCookie,
  signedCookie,
  sid,
  SECRET,
} from '../../support/express-helpers';

const base = { secret: SECRET, resave: false, saveUninitialized: false };

function counter(req: any, res: any): void {
  req.session.n = (req.session.n ?? 0) + 1;
  res.end(String(req.session.n));
}

function spyStore(store: any): Record<string, number> {
  const calls: Record<string, number> = { get: 0, set: 0, touch: 0, destroy: 0 };
  for (const m of Object.keys(calls)) {
    const original = store[m].bind(store);
    store[m] = (...args: any[]) => {
      calls[m]!++;
      return original(...args);
    };
  }
  return calls;
}

describe('isValidId', () => {
  it('rejects a correctly signed id of the wrong shape before reading the store', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const calls = spyStore(store);
    const server = createServer({ ...base, store, isValidId: isDefaultSessionId }, counter);
    const forged = signedCookie('not-an-id-we-issue', SECRET);
    const res = await request(server).get('/').set('Cookie', forged).expect(200, '1');
    expect(calls.get).toBe(0);
    expect(sid(res)).not.toBe('not-an-id-we-issue');
    expect(isDefaultSessionId(sid(res)!)).toBe(true);
    store.close();
  });

  it.each(['*', 'a?b', 'x:y', 'line\nbreak', 'é'.repeat(32), 'a'.repeat(4096), 'a'.repeat(31)])(
    'never adopts malformed id #%#',
    (bad) => {
      expect(isDefaultSessionId(bad)).toBe(false);
    },
  );
});

describe('duplicate session cookies', () => {
  it('an invalid first copy does not hide a valid second one', async () => {
    const server = createServer(base, counter);
    const first = await request(server).get('/').expect(200, '1');
    const good = cookie(first);
    const header = `connect.sid=s%3Aforged.badsignature; other=1; ${good}`;
    await request(server).get('/').set('Cookie', header).expect(200, '2');
  });
});

describe('resignCookies', () => {
  it('re-sends a cookie signed with an older secret, signed with the current one', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const oldStore = createServer({ ...base, secret: 'old secret', store }, counter);
    const rotated = createServer(
      { ...base, secret: ['new secret', 'old secret'], store, resignCookies: true },
      counter,
    );
    const r1 = await request(oldStore).get('/').expect(200, '1');
    const r2 = await request(rotated).get('/').set('Cookie', cookie(r1)).expect(200, '2');
    expect(sessionCookie(r2)).toBeDefined();
    expect(cookie(r2)).toBe(signedCookie(sid(r1)!, 'new secret'));
    store.close();
  });
});

describe('clearCookieOnDestroy', () => {
  it('sends an expired cookie when the session is destroyed', async () => {
    const server = createServer({ ...base, clearCookieOnDestroy: true }, (req: any, res: any) => {
      if (req.url === '/logout') return req.session.destroy(() => res.end('bye'));
      counter(req, res);
    });
    const r1 = await request(server).get('/').expect(200, '1');
    const r2 = await request(server).get('/logout').set('Cookie', cookie(r1)).expect(200, 'bye');
    const line = sessionCookie(r2)!;
    expect(line).toMatch(
      /^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly/,
    );
    await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '1');
  });
});

describe('orphans', () => {
  it('does not store a new session modified after the headers were sent', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const server = createServer({ ...base, store }, (req: any, res: any) => {
      res.write('partial');
      req.session.late = true;
      res.end();
    });
    const res = await request(server).get('/').expect(200);
    expect(sessionCookie(res)).toBeUndefined();
    expect(await store.length()).toBe(0);
    store.close();
  });
});

describe('strictWrites', () => {
  function failingStore(): any {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    (store as any).set = (_sid: string, _s: unknown, cb: (e?: Error) => void) =>
      setImmediate(cb, new Error('disk on fire'));
    return store;
  }

  it('answers 503 without the session cookie when the write fails', async () => {
    const errors: unknown[] = [];
    const store = failingStore();
    const server = createServer(
      { ...base, store, strictWrites: true, onError: (e: unknown) => errors.push(e) },
      (req: any, res: any) => {
        req.session.user = 'alice';
        res.setHeader('Content-Type', 'text/plain');
        res.end('signed in');
      },
    );
    const res = await request(server).get('/').expect(503);
    expect(res.body).toEqual({
      statusCode: 503,
      message: 'Session store unavailable',
      error: 'Service Unavailable',
    });
    expect(res.headers['retry-after']).toBe('1');
    expect(sessionCookie(res)).toBeUndefined();
    expect((errors[0] as Error).message).toBe('disk on fire');
    store.close();
  });

  it('a completed response means the write is in the store', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const server = createServer({ ...base, store, strictWrites: true }, counter);
    const res = await request(server).get('/').expect(200, '1');
    expect(await store.get(sid(res)!)).toMatchObject({ n: 1 });
    store.close();
  });

  it('answers 500 for session data that cannot be serialized, keeping the stored record', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const server = createServer(
      { ...base, store, strictWrites: true, onError: () => undefined },
      (req: any, res: any) => {
        if (req.url === '/bad') req.session.big = BigInt(1);
        else req.session.ok = true;
        res.end('done');
      },
    );
    const r1 = await request(server).get('/').expect(200);
    const r2 = await request(server).get('/bad').set('Cookie', cookie(r1)).expect(500);
    expect(r2.body.message).toMatch(/not serializable/);
    expect(await store.get(sid(r1)!)).toMatchObject({ ok: true });
    store.close();
  });

  it('fails a store that never answers within storeTimeout', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    (store as any).set = () => undefined;
    const server = createServer(
      { ...base, store, strictWrites: true, storeTimeout: 100, onError: () => undefined },
      counter,
    );
    await request(server).get('/').expect(503);
    store.close();
  });
});

describe('stores that bound their own answer time (answersWithin)', () => {
  /** A MemoryStore whose get answers after `delay` ms and says it answers within `bound`. */
  function slowStore(delay: number, bound: number | undefined) {
    const store = new session.MemoryStore({ pruneInterval: 0 }) as any;
    const get = store.get.bind(store);
    store.get = (sid: string, cb: (err: unknown, s?: unknown) => void) => {
      setTimeout(() => get(sid, cb), delay);
    };
    store.answersWithin = () => bound;
    return store;
  }

  it('trusts a bound within storeTimeout: no engine timer cuts the store off', async () => {
    const store = slowStore(150, 50);
    const server = createServer({ ...base, store, strictWrites: true, storeTimeout: 100 }, counter);
    const r1 = await request(server).get('/').expect(200);
    await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '2');
    store.close();
  });

  it('keeps its own timer when the bound exceeds storeTimeout, or there is none', async () => {
    for (const bound of [500, undefined]) {
      const store = slowStore(300, bound);
      const server = createServer(
        { ...base, store, strictWrites: true, storeTimeout: 100, onError: () => undefined },
        counter,
      );
      const r1 = await request(server).get('/').expect(200);
      await request(server).get('/').set('Cookie', cookie(r1)).expect(500);
      store.close();
    }
  });

  it('MemoryStore gets no engine timer for its own methods, and gets one for replaced ones', () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    expect(store.answersWithin('get')).toBe(0);
    (store as any).set = () => undefined;
    expect(store.answersWithin('set')).toBeUndefined();
    expect(store.answersWithin('destroy')).toBe(0);
    store.close();
  });
});

describe('discardInvalidRecords', () => {
  it.each([
    ['no cookie', { n: 5 }],
    ['cookie not an object', { cookie: 'x', n: 5 }],
    [
      'expired',
      {
        cookie: {
          originalMaxAge: 1000,
          expires: new Date(Date.now() - 1000).toISOString(),
          path: '/',
        },
        n: 5,
      },
    ],
  ])('gives a fresh session and deletes a record with %s', async (_label, record) => {
    const records = new Map<string, unknown>([['abc', record]]);
    const store: any = Object.assign(new EventEmitter(), {
      get: (id: string, cb: any) => setImmediate(cb, null, records.get(id)),
      set: (id: string, s: any, cb: any) => (
        records.set(id, JSON.parse(JSON.stringify(s))),
        setImmediate(cb)
      ),
      destroy: (id: string, cb: any) => (records.delete(id), setImmediate(cb)),
    });
    const server = createServer({ ...base, store, discardInvalidRecords: true }, counter);
    const res = await request(server)
      .get('/')
      .set('Cookie', signedCookie('abc', SECRET))
      .expect(200, '1');
    expect(records.has('abc')).toBe(false);
    expect(sid(res)).not.toBe('abc');
  });
});

describe('touchAfter', () => {
  it('skips the store touch of an unchanged session while the expiry barely moves', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const calls = spyStore(store);
    const read = (req: any, res: any) => {
      if (req.url === '/write') req.session.x = 1;
      res.end(String(req.session.x));
    };
    const lazy = createServer(
      { ...base, store, cookie: { maxAge: 60_000 }, touchAfter: 5_000 },
      read,
    );
    const eager = createServer({ ...base, store, cookie: { maxAge: 60_000 } }, read);
    const r1 = await request(lazy).get('/write').expect(200, '1');
    await request(lazy).get('/').set('Cookie', cookie(r1)).expect(200, '1');
    expect(calls.touch).toBe(0);
    await request(eager).get('/').set('Cookie', cookie(r1)).expect(200, '1');
    expect(calls.touch).toBe(1);
    store.close();
  });
});

describe('touchAfter with parallel requests of one browser', () => {
  /** A session whose stored expiry lies `ms` in the past of a fresh one (last seen `ms` ago). */
  async function age(store: any, id: string, ms: number): Promise<void> {
    const record = await store.get(id);
    record.cookie.expires = new Date(new Date(record.cookie.expires).getTime() - ms).toISOString();
    await store.set(id, record);
  }

  /** `/write` sets x; every request answers x; sessions live 60 s, touched after 5 s. */
  function idleServer(store: unknown) {
    return createServer(
      { ...base, store, cookie: { maxAge: 60_000 }, touchAfter: 5_000, onError: () => undefined },
      (req: any, res: any) => {
        if (req.url === '/write') req.session.x = 1;
        res.end(String(req.session.x));
      },
    );
  }

  it('touches an idle session once, not once per parallel request', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const calls = spyStore(store);
    const server = idleServer(store);
    const r1 = await request(server).get('/write').expect(200, '1');
    await age(store, sid(r1)!, 20_000);
    // Slow reads: the ten requests all hold the old record at once.
    const get = store.get.bind(store);
    (store as any).get = (id: string, cb: (err: unknown, s?: unknown) => void) =>
      setTimeout(() => get(id, cb), 50);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        request(server).get('/').set('Cookie', cookie(r1)).expect(200, '1'),
      ),
    );
    expect(calls.touch).toBe(1);
    const stored = (await get(sid(r1)!)) as any;
    expect(new Date(stored.cookie.expires).getTime()).toBeGreaterThan(Date.now() + 55_000);
    store.close();
  });

  it('touches again after a touch failed', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const server = idleServer(store);
    const r1 = await request(server).get('/write').expect(200, '1');
    await age(store, sid(r1)!, 20_000);
    const touch = store.touch.bind(store);
    let failures = 1;
    let touches = 0;
    (store as any).touch = (id: string, s: unknown, cb: (err?: unknown) => void) => {
      touches++;
      if (failures-- > 0) return setImmediate(cb, new Error('touch failed'));
      return touch(id, s as never, cb);
    };
    await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '1');
    await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '1');
    await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '1');
    expect(touches).toBe(2);
    store.close();
  });
});

describe('clearCookieOnDestroy after regenerate', () => {
  it('clears the cookie when the regenerated session is destroyed too (passport logout + destroy)', async () => {
    const server = createServer({ ...base, clearCookieOnDestroy: true }, (req: any, res: any) => {
      if (req.url !== '/logout') return counter(req, res);
      req.session.regenerate(() => req.session.destroy(() => res.end('bye')));
    });
    const r1 = await request(server).get('/').expect(200, '1');
    const r2 = await request(server).get('/logout').set('Cookie', cookie(r1)).expect(200, 'bye');
    expect(sessionCookie(r2)).toMatch(/^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970/);
  });

  it('sends the new cookie when the session is only regenerated', async () => {
    const server = createServer({ ...base, clearCookieOnDestroy: true }, (req: any, res: any) => {
      req.session.regenerate(() => counter(req, res));
    });
    const r1 = await request(server).get('/').expect(200, '1');
    const r2 = await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '1');
    expect(sid(r2)).toBeDefined();
    expect(sid(r2)).not.toBe(sid(r1));
  });
});

describe('absoluteTimeout', () => {
  it('ends a session a fixed time after its creation, however active it is', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const server = createServer(
      { ...base, store, rolling: true, cookie: { maxAge: 60_000 }, absoluteTimeout: 5_000 },
      counter,
    );
    const realNow = Date.now();
    const r1 = await request(server).get('/').expect(200, '1');
    const stored = (await store.get(sid(r1)!)) as any;
    expect(stored.cookie.createdAt).toBeGreaterThanOrEqual(realNow);
    const spy = jest.spyOn(Date, 'now').mockReturnValue(realNow + 4_000);
    try {
      await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '2');
      spy.mockReturnValue(realNow + 6_000);
      const late = await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '1');
      expect(sid(late)).not.toBe(sid(r1));
      expect(await store.get(sid(r1)!)).toBeUndefined();
    } finally {
      spy.mockRestore();
      store.close();
    }
  });
});

describe('maxSize', () => {
  it('refuses to save a session over the limit (500) and keeps the stored one', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const server = createServer(
      { ...base, store, strictWrites: true, maxSize: 200, onError: () => undefined },
      (req: any, res: any) => {
        req.session.blob = req.url === '/big' ? 'x'.repeat(500) : 'small';
        res.end('ok');
      },
    );
    const r1 = await request(server).get('/').expect(200);
    const r2 = await request(server).get('/big').set('Cookie', cookie(r1)).expect(500);
    expect(r2.body.message).toBe('Session data exceeds the maximum size of 200 bytes');
    expect(await store.get(sid(r1)!)).toMatchObject({ blob: 'small' });
    store.close();
  });

  it('discards a stored record over the limit', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    await store.set('huge', {
      cookie: { originalMaxAge: null, expires: null, path: '/' },
      blob: 'x'.repeat(500),
    } as any);
    const server = createServer({ ...base, store, maxSize: 200 }, counter);
    const res = await request(server)
      .get('/')
      .set('Cookie', signedCookie('huge', SECRET))
      .expect(200, '1');
    expect(sid(res)).not.toBe('huge');
    expect(await store.get('huge')).toBeUndefined();
    store.close();
  });
});

describe('readRetries', () => {
  it('retries a failed read, not a timed-out one', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const original = store.get.bind(store) as any;
    let failures = 1;
    (store as any).get = (id: string, cb: any) =>
      failures-- > 0 ? setImmediate(cb, new Error('ECONNRESET')) : original(id, cb);
    const server = createServer({ ...base, store, readRetries: 1 }, counter);
    const r1 = await request(server).get('/').expect(200, '1');
    failures = 1;
    await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '2');
    failures = 2;
    await request(server).get('/').set('Cookie', cookie(r1)).expect(500, 'ECONNRESET');
    store.close();
  });
});

describe('reapplyCookieOptions', () => {
  it('never takes cookie attributes from the stored record', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    await store.set('planted', {
      cookie: {
        originalMaxAge: null,
        expires: null,
        path: '/',
        httpOnly: false,
        domain: 'evil.example',
      },
      n: 1,
    } as any);
    const server = createServer(
      { ...base, store, rolling: true, reapplyCookieOptions: true, cookie: { sameSite: 'lax' } },
      counter,
    );
    const res = await request(server)
      .get('/')
      .set('Cookie', signedCookie('planted', SECRET))
      .expect(200, '2');
    expect(sessionCookie(res)).toMatch(/; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(sessionCookie(res)).not.toMatch(/evil/);
    store.close();
  });
});

describe('regenerate({ keep })', () => {
  it('changes the id and carries over only the named keys', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const server = createServer({ ...base, store }, (req: any, res: any) => {
      if (req.url === '/visit') {
        req.session.returnTo = '/checkout';
        req.session.cart = ['tea'];
        req.session.tracking = 'anonymous';
        return res.end('ok');
      }
      req.session.regenerate({ keep: ['returnTo', 'cart', 'absent'] }, (err: unknown) => {
        if (err) return res.end('error');
        req.session.userId = 'alice';
        res.end(JSON.stringify(req.session));
      });
    });
    const r1 = await request(server).get('/visit').expect(200);
    const r2 = await request(server).get('/login').set('Cookie', cookie(r1)).expect(200);
    const data = JSON.parse(r2.text);
    expect(data).toMatchObject({ returnTo: '/checkout', cart: ['tea'], userId: 'alice' });
    expect(data).not.toHaveProperty('tracking');
    expect(data).not.toHaveProperty('absent');
    expect(sid(r2)).not.toBe(sid(r1));
    expect(await store.get(sid(r1)!)).toBeUndefined();
    expect(await store.get(sid(r2)!)).toMatchObject({ cart: ['tea'], userId: 'alice' });
    store.close();
  });

  it('works with await', async () => {
    const server = createServer(base, async (req: any, res: any) => {
      req.session.keepMe = 1;
      req.session.dropMe = 2;
      await req.session.regenerate({ keep: ['keepMe'] });
      res.end(JSON.stringify(req.session));
    });
    const res = await request(server).get('/').expect(200);
    expect(JSON.parse(res.text)).toMatchObject({ keepMe: 1 });
    expect(JSON.parse(res.text)).not.toHaveProperty('dropMe');
  });
});

describe('default session ids', () => {
  it('are 32 base64url characters, unique across CSPRNG pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = generateSessionId();
      expect(isDefaultSessionId(id)).toBe(true);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });
});
