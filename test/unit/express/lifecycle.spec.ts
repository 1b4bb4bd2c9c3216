process.env.NO_DEPRECATION = 'express-session';

import * as net from 'node:net';
import cookieParser = require('cookie-parser');
import request = require('supertest');
import {
  cookie,
  createServer,
  createServerWith,
  createTestStore,
  nextTick,
  opts,
  record,
  sessionCookie,
  setCookies,
  sid,
  sign,
  signedCookie,
} from '../../support/express-helpers';
import session = require('../../../lib/express');

const echoId = (req: any, res: any) => res.end(req.session ? String(req.sessionID) : 'none');

describe('reading the session cookie', () => {
  let store: ReturnType<typeof createTestStore>;
  beforeEach(() => {
    store = createTestStore();
    store.write('known', record({ v: 'stored' }));
  });
  const handler = (req: any, res: any) => res.end(req.sessionID + ':' + (req.session.v ?? '-'));

  it('loads the session named by a correctly signed s: cookie', async () => {
    const server = createServer(opts({ store }), handler);
    await request(server).get('/').set('Cookie', signedCookie('known')).expect(200, 'known:stored');
  });

  it('sets req.sessionID before the store is queried', async () => {
    const ids: string[] = [];
    const orig = store.get;
    store.get = function (this: any, id: string, cb: any) {
      ids.push(id);
      return orig.call(this, id, cb);
    };
    const server = createServer(opts({ store }), handler);
    await request(server).get('/').set('Cookie', signedCookie('known'));
    expect(ids).toEqual(['known']);
  });

  it('a tampered signature gives a fresh session', async () => {
    const server = createServer(opts({ store }), handler);
    const bad =
      'connect.sid=' + encodeURIComponent('s:known.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    const res = await request(server).get('/').set('Cookie', bad).expect(200);
    expect(res.text).not.toMatch(/^known:/);
    expect(res.text).toMatch(/:-$/);
    expect(sid(res)).not.toBe('known');
  });

  it('a cookie signed with another secret gives a fresh session', async () => {
    const server = createServer(opts({ store }), handler);
    const res = await request(server).get('/').set('Cookie', signedCookie('known', 'other'));
    expect(res.text).toMatch(/:-$/);
  });

  it('an unsigned cookie value is ignored', async () => {
    const server = createServer(opts({ store }), handler);
    const res = await request(server).get('/').set('Cookie', 'connect.sid=known');
    expect(res.text).toMatch(/:-$/);
    expect(store.calls.get).toBe(0);
  });

  it('a signed value without the s: prefix is ignored', async () => {
    const server = createServer(opts({ store }), handler);
    const res = await request(server)
      .get('/')
      .set('Cookie', 'connect.sid=' + encodeURIComponent(sign('known')));
    expect(res.text).toMatch(/:-$/);
  });

  it('an ID containing dots is split at the last dot', async () => {
    store.write('a.b.c', record({ v: 'dots' }));
    const server = createServer(opts({ store }), handler);
    await request(server).get('/').set('Cookie', signedCookie('a.b.c')).expect('a.b.c:dots');
  });

  it('the first occurrence of the cookie name wins', async () => {
    store.write('second', record({ v: '2' }));
    const server = createServer(opts({ store }), handler);
    await request(server)
      .get('/')
      .set('Cookie', signedCookie('known') + '; ' + signedCookie('second'))
      .expect('known:stored');
  });

  it('finds the cookie among other cookies', async () => {
    const server = createServer(opts({ store }), handler);
    await request(server)
      .get('/')
      .set('Cookie', 'a=1; ' + signedCookie('known') + '; b=2')
      .expect('known:stored');
  });

  it('an unknown ID gives a new session with a new ID', async () => {
    const server = createServer(opts({ store }), handler);
    const res = await request(server).get('/').set('Cookie', signedCookie('unknown'));
    expect(res.text).toMatch(/:-$/);
    expect(sid(res)).toBeDefined();
    expect(sid(res)).not.toBe('unknown');
  });

  it('an empty signed ID counts as no cookie', async () => {
    const server = createServer(opts({ store }), handler);
    const res = await request(server).get('/').set('Cookie', signedCookie(''));
    expect(res.text).toMatch(/:-$/);
    expect(store.calls.get).toBe(0);
  });
});

describe('cookie-parser interplay', () => {
  let store: ReturnType<typeof createTestStore>;
  beforeEach(() => {
    store = createTestStore();
    store.write('known', record({ v: 'stored' }));
  });
  const handler = (req: any, res: any) => res.end(String(req.session.v ?? '-'));

  it('works with cookie-parser using the same secret', async () => {
    const server = createServerWith(
      [cookieParser('keyboard cat') as any, session(opts({ store })) as any],
      handler,
    );
    await request(server).get('/').set('Cookie', signedCookie('known')).expect('stored');
  });

  it('falls back to req.signedCookies when there is no raw header', async () => {
    const server = createServerWith(
      [
        cookieParser('keyboard cat') as any,
        (req, _res, next) => {
          delete req.headers.cookie;
          next();
        },
        session(opts({ store })) as any,
      ],
      handler,
    );
    await request(server).get('/').set('Cookie', signedCookie('known')).expect('stored');
  });

  it('a signedCookies value of false (failed verification) is ignored', async () => {
    const server = createServerWith(
      [
        (req, _res, next) => {
          req.signedCookies = { 'connect.sid': false };
          next();
        },
        session(opts({ store })) as any,
      ],
      handler,
    );
    await request(server).get('/').expect('-');
  });

  it('trusts req.signedCookies as already verified', async () => {
    const server = createServerWith(
      [
        (req, _res, next) => {
          req.signedCookies = { 'connect.sid': 'known' };
          next();
        },
        session(opts({ store })) as any,
      ],
      handler,
    );
    await request(server).get('/').expect('stored');
  });

  it('falls back to req.cookies (cookie-parser without secret) and unsigns it', async () => {
    const server = createServerWith(
      [
        cookieParser() as any,
        (req, _res, next) => {
          delete req.headers.cookie;
          next();
        },
        session(opts({ store })) as any,
      ],
      handler,
    );
    await request(server).get('/').set('Cookie', signedCookie('known')).expect('stored');
  });

  it('an unprefixed req.cookies value is ignored', async () => {
    const server = createServerWith(
      [
        (req, _res, next) => {
          req.cookies = { 'connect.sid': 'known' };
          next();
        },
        session(opts({ store })) as any,
      ],
      handler,
    );
    await request(server).get('/').expect('-');
  });

  it('a req.cookies value signed with a wrong secret is rejected', async () => {
    const server = createServerWith(
      [
        (req, _res, next) => {
          req.cookies = { 'connect.sid': 's:' + sign('known', 'wrong') };
          next();
        },
        session(opts({ store })) as any,
      ],
      handler,
    );
    await request(server).get('/').expect('-');
  });

  it('the raw header takes precedence over cookie-parser data', async () => {
    store.write('other', record({ v: 'other' }));
    const server = createServerWith(
      [
        (req, _res, next) => {
          req.signedCookies = { 'connect.sid': 'other' };
          next();
        },
        session(opts({ store })) as any,
      ],
      handler,
    );
    await request(server).get('/').set('Cookie', signedCookie('known')).expect('stored');
  });
});

describe('path scoping', () => {
  const server = () => createServer(opts({ cookie: { path: '/foo' } }), echoId);

  it('handles requests under the cookie path', async () => {
    const res = await request(server()).get('/foo/bar').expect(200);
    expect(res.text).not.toBe('none');
    expect(sessionCookie(res)).toContain('Path=/foo');
  });

  it('handles the path itself and a query string', async () => {
    expect((await request(server()).get('/foo').expect(200)).text).not.toBe('none');
    expect((await request(server()).get('/foo?x=1').expect(200)).text).not.toBe('none');
  });

  it('uses a plain prefix test: /foobar matches /foo', async () => {
    expect((await request(server()).get('/foobar').expect(200)).text).not.toBe('none');
  });

  it('is case-sensitive and skips other paths entirely', async () => {
    const r1 = await request(server()).get('/FOO').expect(200, 'none');
    expect(setCookies(r1)).toHaveLength(0);
    const r2 = await request(server()).get('/').expect(200, 'none');
    expect(setCookies(r2)).toHaveLength(0);
  });

  it('does not set req.sessionStore on a skipped request', async () => {
    let seen: any = 'unset';
    const s = createServer(opts({ cookie: { path: '/foo' } }), (req, res) => {
      seen = req.sessionStore;
      res.end();
    });
    await request(s).get('/bar');
    expect(seen).toBeUndefined();
  });

  it('prefers req.originalUrl over req.url', async () => {
    const s = createServerWith(
      [
        (req, _res, next) => {
          req.originalUrl = req.url;
          req.url = '/';
          next();
        },
        session(opts({ cookie: { path: '/foo' } })) as any,
      ],
      echoId,
    );
    expect((await request(s).get('/foo/x')).text).not.toBe('none');
    expect((await request(s).get('/bar')).text).toBe('none');
  });

  it('does not build the URL from the Host header', async () => {
    const res = await request(createServer(opts(), echoId))
      .get('/')
      .set('Host', 'http://foo/bar')
      .expect(200);
    expect(res.text).not.toBe('none');
  });
});

describe('path scoping with unusual request targets', () => {
  function rawRequest(server: any, target: string): Promise<string> {
    return new Promise((resolve, reject) => {
      server.listen(0, () => {
        const sock = net.connect(server.address().port, '127.0.0.1', () => {
          sock.write('GET ' + target + ' HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
        });
        let data = '';
        sock.on('data', (c) => (data += c));
        sock.on('end', () => {
          server.close();
          resolve(data);
        });
        sock.on('error', (e) => {
          server.close();
          reject(e);
        });
      });
    });
  }

  it('uses the path of an absolute-form request target', async () => {
    const s1 = createServer(opts({ cookie: { path: '/foo' } }), echoId);
    const inside = await rawRequest(s1, 'http://example.com/foo/bar');
    expect(inside).toMatch(/^HTTP\/1\.1 200/);
    expect(inside).toMatch(/set-cookie: connect\.sid=/i);
    const s2 = createServer(opts({ cookie: { path: '/foo' } }), echoId);
    const outside = await rawRequest(s2, 'http://example.com/bar');
    expect(outside).not.toMatch(/set-cookie/i);
    expect(outside).toMatch(/none/);
  });
});

describe('skip conditions', () => {
  it('leaves an existing req.session alone', async () => {
    const store = createTestStore();
    let state: any;
    const server = createServerWith(
      [
        (req, _res, next) => {
          req.session = { preset: true };
          next();
        },
        session(opts({ store })) as any,
      ],
      (req, res) => {
        state = { session: req.session, store: req.sessionStore, id: req.sessionID };
        res.end();
      },
    );
    const res = await request(server).get('/').set('Cookie', signedCookie('x'));
    expect(state).toEqual({ session: { preset: true }, store: undefined, id: undefined });
    expect(setCookies(res)).toHaveLength(0);
    expect(store.calls.get).toBe(0);
  });

  it('a second session middleware on the same request is a no-op', async () => {
    const store1 = createTestStore();
    const store2 = createTestStore();
    const server = createServerWith(
      [
        session(opts({ store: store1 })) as any,
        session(opts({ store: store2, name: 'two' })) as any,
      ],
      (req, res) => {
        req.session.x = 1;
        res.end();
      },
    );
    const res = await request(server).get('/');
    expect(setCookies(res)).toHaveLength(1);
    expect(sessionCookie(res)).toBeDefined();
    await nextTick();
    expect(store1.length()).toBe(1);
    expect(store2.length()).toBe(0);
  });

  it('does not call the cookie function on the first two skip paths', async () => {
    const store = createTestStore();
    let calls = 0;
    const cookieFn = () => {
      calls++;
      return {};
    };
    const preset = createServerWith([
      (req, _res, next) => {
        req.session = { preset: true };
        next();
      },
      session(opts({ store, cookie: cookieFn })) as any,
    ]);
    await request(preset).get('/');
    expect(calls).toBe(0);
    const server = createServer(opts({ store, cookie: cookieFn }));
    store.emit('disconnect');
    await request(server).get('/');
    expect(calls).toBe(0);
    store.emit('connect');
    await request(server).get('/');
    expect(calls).toBeGreaterThan(0);
  });

  it('skips while the store is disconnected and resumes on connect', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), (req, res) =>
      res.end(req.session ? 'session' : 'none'),
    );
    await request(server).get('/').expect('session');
    store.emit('disconnect');
    const r2 = await request(server).get('/').set('Cookie', signedCookie('x')).expect('none');
    expect(setCookies(r2)).toHaveLength(0);
    expect(store.calls.get).toBe(0);
    store.emit('connect');
    await request(server).get('/').expect('session');
  });

  it('a request already in flight is not affected by a disconnect', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), (req, res) => {
      store.emit('disconnect');
      req.session.v = 1;
      res.end('ok');
    });
    const res = await request(server).get('/').expect('ok');
    expect(sessionCookie(res)).toBeDefined();
    await nextTick();
    expect(store.length()).toBe(1);
  });
});

describe('store errors while loading', () => {
  it('a get error goes to next(err) and leaves req.session undefined', async () => {
    const store = createTestStore();
    store.failOn.get = new Error('store is down');
    let reached = false;
    const server = createServer(opts({ store }), (_req, res) => {
      reached = true;
      res.end();
    });
    const res = await request(server).get('/').set('Cookie', signedCookie('x'));
    expect(res.status).toBe(500);
    expect(res.text).toBe('store is down');
    expect(reached).toBe(false);
    expect(setCookies(res)).toHaveLength(0);
  });

  it('an ENOENT error counts as not found', async () => {
    const store = createTestStore();
    const err: any = new Error('not there');
    err.code = 'ENOENT';
    store.failOn.get = err;
    const server = createServer(opts({ store }), (req, res) => res.end(req.sessionID));
    const res = await request(server).get('/').set('Cookie', signedCookie('x')).expect(200);
    expect(res.text).not.toBe('x');
    expect(sid(res)).toBe(res.text);
  });

  it('a stored record without cookie fails with a 500 /Cannot read prop/', async () => {
    const store = createTestStore();
    store.write('nocookie', { v: 1 });
    const server = createServer(opts({ store }));
    const res = await request(server).get('/').set('Cookie', signedCookie('nocookie'));
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/Cannot read prop/);
  });

  it('a stored key named like a method is dropped and the session still works', async () => {
    const store = createTestStore();
    store.write('s1', record({ save: 'evil', v: 1 }));
    const server = createServer(opts({ store, resave: true }), (req, res) => {
      const ok = typeof req.session.save === 'function';
      req.session.v++;
      res.end(String(ok));
    });
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect('true');
    await nextTick();
    expect(store.read('s1').v).toBe(2);
    expect(store.read('s1').save).toBeUndefined();
  });

  it('stored prototype-pollution keys do nothing', async () => {
    const store = createTestStore();
    store.data.set(
      's1',
      '{"cookie":{"originalMaxAge":null,"expires":null},"__proto__":{"polluted":"yes"},' +
        '"constructor":{"prototype":{"polluted":"yes"}},"v":1}',
    );
    const server = createServer(opts({ store }), (req, res) =>
      res.end(
        String(req.session.polluted) + ':' + String(({} as any).polluted) + ':' + req.session.v,
      ),
    );
    await request(server)
      .get('/')
      .set('Cookie', signedCookie('s1'))
      .expect('undefined:undefined:1');
  });
});

describe('Set-Cookie placement', () => {
  it('is appended after a cookie set with setHeader (string)', async () => {
    const server = createServer(opts(), (_req, res) => {
      res.setHeader('Set-Cookie', 'previous=cookieValue');
      res.end();
    });
    const res = await request(server).get('/');
    const list = setCookies(res);
    expect(list).toHaveLength(2);
    expect(list[0]).toBe('previous=cookieValue');
    expect(list[1]).toMatch(/^connect\.sid=/);
  });

  it('is appended after cookies set with setHeader (array)', async () => {
    const server = createServer(opts(), (_req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end();
    });
    const list = setCookies(await request(server).get('/'));
    expect(list.slice(0, 2)).toEqual(['a=1', 'b=2']);
    expect(list[2]).toMatch(/^connect\.sid=/);
  });

  it('is appended after a cookie passed to writeHead', async () => {
    const server = createServer(opts(), (_req, res) => {
      res.writeHead(200, { 'Set-Cookie': 'previous=cookieValue' });
      res.end();
    });
    const list = setCookies(await request(server).get('/'));
    expect(list[0]).toBe('previous=cookieValue');
    expect(list[1]).toMatch(/^connect\.sid=/);
  });

  it('works with writeHead(status, reason, headers)', async () => {
    const server = createServer(opts(), (_req, res) => {
      res.writeHead(201, 'Made', { 'Set-Cookie': ['x=1'], 'X-Test': 'yes' });
      res.end();
    });
    const res = await request(server).get('/').expect(201);
    expect(res.headers['x-test']).toBe('yes');
    const list = setCookies(res);
    expect(list[0]).toBe('x=1');
    expect(list[1]).toMatch(/^connect\.sid=/);
  });

  it('works with writeHead and a flat header array', async () => {
    const server = createServer(opts(), (_req, res) => {
      res.writeHead(200, ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Flat', 'ok']);
      res.end();
    });
    const res = await request(server).get('/');
    expect(res.headers['x-flat']).toBe('ok');
    const list = setCookies(res);
    expect(list).toEqual(['a=1', 'b=2', expect.stringMatching(/^connect\.sid=/)]);
  });

  it('works with writeHead and an array of [key, value] pairs', async () => {
    const server = createServer(opts(), (_req, res) => {
      res.writeHead(200, [
        ['Set-Cookie', 'p=1'],
        ['X-Pair', 'yes'],
      ]);
      res.end();
    });
    const res = await request(server).get('/');
    expect(res.headers['x-pair']).toBe('yes');
    const list = setCookies(res);
    expect(list[0]).toBe('p=1');
    expect(list[1]).toMatch(/^connect\.sid=/);
  });

  it('a malformed flat header array throws from writeHead', async () => {
    let message: any;
    const server = createServer(opts(), (_req, res) => {
      try {
        res.writeHead(200, ['X-Odd', 'a', 'X-Lonely']);
      } catch (e: any) {
        message = e.message;
      }
      if (!res.headersSent) res.writeHead(200);
      res.end();
    });
    await request(server).get('/');
    expect(message).toBe('headers array is malformed');
  });

  it('applies a status code changed by the header hook chain', async () => {
    const server = createServer(opts(), (_req, res) => {
      res.statusCode = 404;
      res.end('nope');
    });
    const res = await request(server).get('/').expect(404, 'nope');
    expect(sessionCookie(res)).toBeDefined();
  });

  it('the session cookie is sent with implicit headers from res.write', async () => {
    const server = createServer(opts(), (_req, res) => {
      res.write('a');
      res.end('b');
    });
    const res = await request(server).get('/').expect(200, 'ab');
    expect(sessionCookie(res)).toBeDefined();
  });
});

describe('req properties', () => {
  it('req.session is a Session and req.sessionID matches session.id', async () => {
    let info: any;
    const server = createServer(opts(), (req, res) => {
      info = {
        isSession: req.session instanceof session.Session,
        same: req.session.id === req.sessionID,
        cookie: req.session.cookie instanceof session.Cookie,
      };
      res.end();
    });
    await request(server).get('/');
    expect(info).toEqual({ isSession: true, same: true, cookie: true });
  });

  it('req.session.id is read-only', async () => {
    let threw: any;
    let id: any;
    const server = createServer(opts(), (req, res) => {
      try {
        req.session.id = 'hacked';
      } catch (e) {
        threw = e;
      }
      id = req.session.id;
      res.end();
    });
    const res = await request(server).get('/');
    expect(threw).toBeInstanceOf(TypeError);
    expect(id).toBe(sid(res));
  });

  it('Object.keys(req.session) is exactly cookie plus the data', async () => {
    let keys: string[] = [];
    let own: string[] = [];
    const server = createServer(opts(), (req, res) => {
      req.session.test1 = 1;
      req.session.test2 = 'b';
      keys = Object.keys(req.session);
      own = [];
      for (const k in req.session) own.push(k);
      res.end();
    });
    await request(server).get('/');
    expect(keys.join(',')).toBe('cookie,test1,test2');
    expect(own.sort().join(',')).toBe('cookie,test1,test2');
  });

  it('keeps the session across requests with the returned cookie', async () => {
    const server = createServer(opts(), (req, res) => {
      req.session.n = (req.session.n || 0) + 1;
      res.end(String(req.session.n));
    });
    const r1 = await request(server).get('/').expect('1');
    const c = cookie(r1);
    await request(server).get('/').set('Cookie', c).expect('2');
    await request(server).get('/').set('Cookie', c).expect('3');
  });
});
