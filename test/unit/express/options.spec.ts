process.env.NO_DEPRECATION = 'express-session';

import cookieParser = require('cookie-parser');
import request = require('supertest');
import {
  attributes,
  cookie,
  cookieValue,
  createServer,
  createServerWith,
  createTestStore,
  dateHeader,
  expires,
  nextTick,
  opts,
  sessionCookie,
  setCookies,
  sid,
  signedCookie,
} from '../../support/express-helpers';
import session = require('../../../lib/express');

describe('option: cookie (object form)', () => {
  it('defaults to Path=/; HttpOnly with no Expires', async () => {
    const res = await request(createServer(opts())).get('/').expect(200);
    expect(attributes(res)).toEqual(['Path=/', 'HttpOnly']);
  });

  it('emits every configured attribute in order', async () => {
    const server = createServer(
      opts({
        cookie: {
          domain: 'example.com',
          partitioned: true,
          priority: 'low',
          sameSite: 'lax',
          maxAge: 60000,
        },
      }),
    );
    const res = await request(server).get('/').expect(200);
    const attrs = attributes(res);
    expect(attrs[0]).toBe('Domain=example.com');
    expect(attrs[1]).toBe('Path=/');
    expect(attrs[2]).toMatch(/^Expires=/);
    expect(attrs.slice(3)).toEqual(['HttpOnly', 'Partitioned', 'Priority=Low', 'SameSite=Lax']);
  });

  it('httpOnly: false drops HttpOnly', async () => {
    const res = await request(createServer(opts({ cookie: { httpOnly: false } }))).get('/');
    expect(attributes(res)).toEqual(['Path=/']);
  });

  it('sameSite: true gives SameSite=Strict, "none" gives None', async () => {
    const r1 = await request(createServer(opts({ cookie: { sameSite: true } }))).get('/');
    expect(attributes(r1)).toContain('SameSite=Strict');
    const r2 = await request(createServer(opts({ cookie: { sameSite: 'none' } }))).get('/');
    expect(attributes(r2)).toContain('SameSite=None');
  });

  it('maxAge sets Expires exactly maxAge after the Date header', async () => {
    const res = await request(createServer(opts({ cookie: { maxAge: 2000 } }))).get('/');
    expect(expires(res)! - dateHeader(res)).toBe(2000);
  });

  it('a large maxAge is also exact', async () => {
    const res = await request(createServer(opts({ cookie: { maxAge: 3000000000 } }))).get('/');
    expect(expires(res)! - dateHeader(res)).toBe(3000000000);
  });

  it('maxAge 0 gives a cookie that expires right away', async () => {
    const res = await request(createServer(opts({ cookie: { maxAge: 0 } }))).get('/');
    expect(expires(res)! - dateHeader(res)).toBeLessThanOrEqual(0);
  });

  it('expires option sets the Expires attribute (later key wins over maxAge)', async () => {
    const when = new Date(Date.now() + 3600000);
    const res = await request(createServer(opts({ cookie: { maxAge: 5000, expires: when } }))).get(
      '/',
    );
    expect(Math.abs(expires(res)! - when.getTime())).toBeLessThanOrEqual(1000);
  });

  it('secure: true withholds the cookie over plain HTTP', async () => {
    const res = await request(createServer(opts({ cookie: { secure: true } }))).get('/');
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('secure: "auto" over plain HTTP sends a cookie without Secure', async () => {
    const res = await request(createServer(opts({ cookie: { secure: 'auto' } }))).get('/');
    expect(attributes(res)).not.toContain('Secure');
    expect(sessionCookie(res)).toBeDefined();
  });

  it('secure: "auto" behind an https proxy sends a Secure cookie', async () => {
    const res = await request(createServer(opts({ proxy: true, cookie: { secure: 'auto' } })))
      .get('/')
      .set('X-Forwarded-Proto', 'https');
    expect(attributes(res)).toContain('Secure');
  });

  it('secure: "auto" resolves to a boolean on the session cookie', async () => {
    let seen: any;
    const server = createServer(opts({ cookie: { secure: 'auto' } }), (req, res) => {
      seen = req.session.cookie.secure;
      res.end();
    });
    await request(server).get('/');
    expect(seen).toBe(false);
  });

  it('sameSite: "auto" is Lax over HTTP and None over HTTPS', async () => {
    const server = createServer(
      opts({ proxy: true, cookie: { sameSite: 'auto', secure: 'auto' } }),
    );
    const r1 = await request(server).get('/');
    expect(attributes(r1)).toContain('SameSite=Lax');
    expect(attributes(r1)).not.toContain('Secure');
    const r2 = await request(server).get('/').set('X-Forwarded-Proto', 'https');
    expect(attributes(r2)).toContain('SameSite=None');
    expect(attributes(r2)).toContain('Secure');
  });

  it('loaded sessions keep the attributes they were created with', async () => {
    const store = createTestStore();
    const r1 = await request(
      createServer(opts({ store, cookie: { domain: 'old.example.com', maxAge: 60000 } })),
    ).get('/');
    const server2 = createServer(
      opts({ store, rolling: true, cookie: { domain: 'new.example.com', maxAge: 60000 } }),
    );
    const r2 = await request(server2).get('/').set('Cookie', cookie(r1));
    expect(sid(r2)).toBe(sid(r1));
    expect(attributes(r2)).toContain('Domain=old.example.com');
  });

  it('a non-object cookie option fails on the no-cookie path', async () => {
    const server = createServer(opts({ cookie: 42 }));
    const res = await request(server).get('/');
    expect(res.status).toBe(500);
    expect(res.text).toBe('argument options must be a object');
  });

  it('an invalid maxAge surfaces as an error while generating', async () => {
    const server = createServer(opts({ cookie: { maxAge: '42' } }));
    const res = await request(server).get('/');
    expect(res.status).toBe(500);
    expect(res.text).toBe('maxAge must be a number or Date');
  });

  it('an invalid maxAge on the store path goes to next(err)', async () => {
    const server = createServer(opts({ cookie: { maxAge: '42' } }));
    const res = await request(server).get('/').set('Cookie', signedCookie('unknown-id'));
    expect(res.status).toBe(500);
    expect(res.text).toBe('maxAge must be a number or Date');
    expect(server.thrown).toHaveLength(0);
    expect(server.errors).toHaveLength(1);
  });

  it('an unserializable expires goes to next(err) and the response continues', async () => {
    const server = createServer(opts({ cookie: { expires: new Date(NaN) } }), (_req, res) =>
      res.end('body'),
    );
    const res = await request(server).get('/').expect(200, 'body');
    expect(sessionCookie(res)).toBeUndefined();
    await nextTick();
    expect(server.errors.map((e) => e.message)).toEqual(['option expires is invalid']);
  });

  it('unknown keys (encode, signed) have no effect', async () => {
    const server = createServer(opts({ cookie: { encode: () => 'x', signed: false } }));
    const res = await request(server).get('/');
    expect(decodeURIComponent(cookieValue(res)!)).toMatch(/^s:/);
    expect(attributes(res)).toEqual(['Path=/', 'HttpOnly']);
  });
});

describe('option: cookie (function form)', () => {
  it('is called with the request and builds the cookie', async () => {
    const seen: string[] = [];
    const server = createServer(
      opts({
        cookie: (req: any) => {
          seen.push(req.url);
          return { domain: req.url === '/a' ? 'a.example.com' : 'b.example.com' };
        },
      }),
    );
    const r1 = await request(server).get('/a');
    const r2 = await request(server).get('/b');
    expect(attributes(r1)).toContain('Domain=a.example.com');
    expect(attributes(r2)).toContain('Domain=b.example.com');
    expect(seen).toContain('/a');
    expect(seen).toContain('/b');
  });

  it('its path scopes the middleware', async () => {
    const server = createServer(opts({ cookie: () => ({ path: '/admin' }) }), (req, res) =>
      res.end(req.session ? 'yes' : 'no'),
    );
    await request(server).get('/admin/x').expect('yes');
    await request(server).get('/public').expect('no');
  });

  it('a thrown error surfaces as an error', async () => {
    const server = createServer(
      opts({
        cookie: () => {
          throw new Error('cookie fn failed');
        },
      }),
    );
    const res = await request(server).get('/');
    expect(res.status).toBe(500);
    expect(res.text).toBe('cookie fn failed');
  });

  it('supports maxAge', async () => {
    const res = await request(createServer(opts({ cookie: () => ({ maxAge: 5000 }) }))).get('/');
    expect(expires(res)! - dateHeader(res)).toBe(5000);
  });
});

describe('option: genid', () => {
  it('provides the session ID and receives the request', async () => {
    let arg: any;
    const server = createServer(
      opts({
        genid: (req: any) => {
          arg = req;
          return 'my-id';
        },
      }),
      (req, res) => res.end(req.sessionID),
    );
    const res = await request(server).get('/').expect(200, 'my-id');
    expect(sid(res)).toBe('my-id');
    expect(arg && typeof arg.url).toBe('string');
  });

  it.each([
    ['apple', 's%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU'],
    ['%', 's%3A%25.kzQ6x52kKVdF35Qh62AWk4ZekS28K5XYCXKa%2FOTZ01g'],
  ])('signs %p with keyboard cat exactly', async (id, expected) => {
    const res = await request(createServer(opts({ genid: () => id }))).get('/');
    expect(cookieValue(res)).toBe(expected);
  });

  it('can derive the ID from the request URL', async () => {
    const res = await request(createServer(opts({ genid: (req: any) => req.url }))).get('/foo');
    expect(cookieValue(res)).toBe('s%3A%2Ffoo.paEKBtAHbV5s1IB8B2zPnzAgYmmnRPIqObW4VRYj%2FMQ');
  });

  it('default IDs are 32 URL-safe characters and unique', async () => {
    const server = createServer(opts());
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await request(server).get('/');
      const id = sid(res)!;
      expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(5);
  });

  it('a non-string ID is never saved nor sent', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, genid: () => 42 }), (req, res) => {
      req.session.x = 1;
      res.end();
    });
    const res = await request(server).get('/').expect(200);
    expect(sessionCookie(res)).toBeUndefined();
    await nextTick();
    expect(store.calls.set).toBe(0);
  });
});

describe('option: name / key', () => {
  it('defaults to connect.sid', async () => {
    const res = await request(createServer(opts())).get('/');
    expect(sessionCookie(res, 'connect.sid')).toBeDefined();
  });

  it('uses a custom name for writing and reading', async () => {
    const server = createServer(opts({ name: 'my.sid' }), (req, res) => res.end(req.sessionID));
    const r1 = await request(server).get('/');
    expect(sessionCookie(r1, 'connect.sid')).toBeUndefined();
    const id = sid(r1, 'my.sid')!;
    expect(id).toBeDefined();
    await request(server).get('/').set('Cookie', cookie(r1, 'my.sid')).expect(id);
    // a cookie under the default name is not read
    const r3 = await request(server).get('/').set('Cookie', signedCookie(id, 'keyboard cat'));
    expect(r3.text).not.toBe(id);
  });

  it('accepts the legacy key option', async () => {
    const res = await request(createServer(opts({ key: 'legacy.sid' }))).get('/');
    expect(sessionCookie(res, 'legacy.sid')).toBeDefined();
    expect(sessionCookie(res, 'connect.sid')).toBeUndefined();
  });

  it('name wins over key', async () => {
    const res = await request(createServer(opts({ name: 'n1', key: 'k1' }))).get('/');
    expect(sessionCookie(res, 'n1')).toBeDefined();
    expect(sessionCookie(res, 'k1')).toBeUndefined();
  });

  it('an invalid name goes to next(err) and no cookie is sent', async () => {
    const server = createServer(opts({ name: 'bad name' }), (_req, res) => res.end('ok'));
    const res = await request(server).get('/').expect(200, 'ok');
    expect(setCookies(res)).toHaveLength(0);
    await nextTick();
    expect(server.errors.map((e) => e.message)).toEqual(['argument name is invalid']);
  });
});

describe('option: proxy', () => {
  const secure = { cookie: { secure: true } };

  it('true trusts X-Forwarded-Proto: https', async () => {
    const res = await request(createServer(opts({ ...secure, proxy: true })))
      .get('/')
      .set('X-Forwarded-Proto', 'https');
    expect(attributes(res)).toContain('Secure');
  });

  it('true uses only the first X-Forwarded-Proto value, trimmed and lowercased', async () => {
    const server = createServer(opts({ ...secure, proxy: true }));
    const r1 = await request(server).get('/').set('X-Forwarded-Proto', ' HTTPS , http');
    expect(sessionCookie(r1)).toBeDefined();
    const r2 = await request(server).get('/').set('X-Forwarded-Proto', 'http, https');
    expect(sessionCookie(r2)).toBeUndefined();
  });

  it('true with X-Forwarded-Proto: http or missing is insecure', async () => {
    const server = createServer(opts({ ...secure, proxy: true }));
    const r1 = await request(server).get('/').set('X-Forwarded-Proto', 'http');
    expect(sessionCookie(r1)).toBeUndefined();
    const r2 = await request(server).get('/');
    expect(sessionCookie(r2)).toBeUndefined();
  });

  it('true ignores req.secure', async () => {
    const server = createServerWith([
      (req, _res, next) => {
        req.secure = true;
        next();
      },
      session(opts({ ...secure, proxy: true })) as any,
    ]);
    const res = await request(server).get('/');
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('false ignores X-Forwarded-Proto and req.secure', async () => {
    const server = createServerWith([
      (req, _res, next) => {
        req.secure = true;
        next();
      },
      session(opts({ ...secure, proxy: false })) as any,
    ]);
    const res = await request(server).get('/').set('X-Forwarded-Proto', 'https');
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('false still trusts a TLS socket', async () => {
    const server = createServerWith([
      (req, _res, next) => {
        req.socket.encrypted = true;
        next();
      },
      session(opts({ ...secure, proxy: false })) as any,
    ]);
    const res = await request(server).get('/');
    expect(attributes(res)).toContain('Secure');
  });

  it('undefined ignores X-Forwarded-Proto', async () => {
    const res = await request(createServer(opts(secure)))
      .get('/')
      .set('X-Forwarded-Proto', 'https');
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('undefined uses req.secure === true', async () => {
    const mk = (value: any) =>
      createServerWith([
        (req, _res, next) => {
          req.secure = value;
          next();
        },
        session(opts(secure)) as any,
      ]);
    const r1 = await request(mk(true)).get('/');
    expect(attributes(r1)).toContain('Secure');
    const r2 = await request(mk('yes')).get('/');
    expect(sessionCookie(r2)).toBeUndefined();
  });
});

describe('option: secret', () => {
  it('a string secret signs the cookie', async () => {
    const res = await request(
      createServer(opts({ secret: 'keyboard cat', genid: () => 'apple' })),
    ).get('/');
    expect(cookieValue(res)).toBe('s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU');
  });

  it('a Buffer secret works like the equivalent string', async () => {
    const server = createServer(
      opts({ secret: Buffer.from('keyboard cat'), genid: () => 'apple' }),
      (req, res) => res.end(req.sessionID),
    );
    const res = await request(server).get('/');
    expect(cookieValue(res)).toBe('s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU');
    await request(server).get('/').set('Cookie', cookie(res)).expect('apple');
  });

  it('an array signs with the first secret and verifies with all', async () => {
    const store = createTestStore();
    const handler = (req: any, res: any) => {
      req.session.n = (req.session.n || 0) + 1;
      res.end(String(req.session.n));
    };
    const oldServer = createServer(opts({ store, secret: 'old' }), handler);
    const r1 = await request(oldServer).get('/').expect('1');
    const rotated = createServer(opts({ store, secret: ['new', 'old'] }), handler);
    const r2 = await request(rotated).get('/').set('Cookie', cookie(r1)).expect('2');
    // a browser-session cookie is not re-sent for a loaded session; check signing on a new one
    expect(sessionCookie(r2)).toBeUndefined();
    const r3 = await request(rotated).get('/');
    expect(cookieValue(r3)).toBe(signedCookie(sid(r3)!, 'new').split('=')[1]);
    // a cookie signed with an unknown secret is not accepted
    await request(rotated)
      .get('/')
      .set('Cookie', signedCookie(sid(r1)!, 'other'))
      .expect('1');
  });

  it('a missing secret without req.secret gives 500 secret required', async () => {
    const server = createServer({ resave: false, saveUninitialized: true });
    const res = await request(server).get('/').expect(500);
    expect(res.text).toMatch(/secret.*required/);
  });

  it.each([[''], [null], [0]])('a falsy secret %p counts as missing', async (secret) => {
    const server = createServer({ resave: false, saveUninitialized: true, secret });
    await request(server)
      .get('/')
      .expect(500, /secret.*required/);
  });

  it('falls back to req.secret from cookie-parser', async () => {
    const server = createServerWith(
      [
        cookieParser('keyboard cat') as any,
        session({ resave: false, saveUninitialized: true }) as any,
      ],
      (req, res) => res.end(req.sessionID),
    );
    const r1 = await request(server).get('/').expect(200);
    const id = sid(r1)!;
    expect(cookieValue(r1)).toBe(signedCookie(id, 'keyboard cat').split('=')[1]);
    await request(server).get('/').set('Cookie', cookie(r1)).expect(id);
  });
});

describe('option: store', () => {
  it('uses the given store and exposes it as req.sessionStore', async () => {
    const store = createTestStore();
    let seen: any;
    const server = createServer(opts({ store }), (req, res) => {
      seen = req.sessionStore;
      res.end();
    });
    const res = await request(server).get('/');
    await nextTick();
    expect(seen).toBe(store);
    expect(store.read(sid(res)!)).toBeDefined();
  });

  it('defaults to a MemoryStore per factory call', async () => {
    let s1: any;
    let s2: any;
    const a = createServer(opts(), (req, res) => {
      s1 = req.sessionStore;
      res.end();
    });
    const b = createServer(opts(), (req, res) => {
      s2 = req.sessionStore;
      res.end();
    });
    await request(a).get('/');
    await request(b).get('/');
    expect(s1).toBeInstanceOf(session.MemoryStore);
    expect(s2).toBeInstanceOf(session.MemoryStore);
    expect(s1).not.toBe(s2);
  });
});

describe('option: unset', () => {
  const handler = (req: any, res: any) => {
    if (req.url === '/unset') req.session = null;
    else req.session.v = 1;
    res.end();
  };

  it('keep (default) leaves the stored session and sends no cookie', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), handler);
    const r1 = await request(server).get('/');
    await nextTick();
    expect(store.length()).toBe(1);
    const r2 = await request(server).get('/unset').set('Cookie', cookie(r1));
    expect(setCookies(r2)).toHaveLength(0);
    await nextTick();
    expect(store.length()).toBe(1);
    expect(store.calls.destroy).toBe(0);
  });

  it('keep also applies to delete req.session', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, unset: 'keep' }), (req, res) => {
      if (req.url === '/unset') delete req.session;
      res.end();
    });
    const r1 = await request(server).get('/');
    await request(server).get('/unset').set('Cookie', cookie(r1));
    await nextTick();
    expect(store.length()).toBe(1);
  });

  it('destroy removes the stored session at the end of the response', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, unset: 'destroy' }), handler);
    const r1 = await request(server).get('/');
    await nextTick();
    expect(store.length()).toBe(1);
    const r2 = await request(server).get('/unset').set('Cookie', cookie(r1));
    expect(setCookies(r2)).toHaveLength(0);
    expect(store.length()).toBe(0);
    expect(store.log).toContain('destroy:' + sid(r1));
  });

  it('destroy also runs for a new session that was never stored', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store, unset: 'destroy' }), handler);
    const res = await request(server).get('/unset').expect(200);
    expect(setCookies(res)).toHaveLength(0);
    expect(store.calls.destroy).toBe(1);
    expect(store.calls.set).toBe(0);
  });

  it('a destroy error reaches next(err) and the response still completes', async () => {
    const store = createTestStore();
    store.failOn.destroy = new Error('destroy boom');
    const server = createServer(opts({ store, unset: 'destroy' }), (req, res) => {
      req.session = null;
      res.end('done');
    });
    await request(server).get('/').expect(200, 'done');
    await nextTick();
    expect(server.errors.map((e) => e.message)).toEqual(['destroy boom']);
  });
});
