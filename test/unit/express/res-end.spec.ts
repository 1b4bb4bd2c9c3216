process.env.NO_DEPRECATION = 'express-session';

import * as http from 'node:http';
import request = require('supertest');
import {
  createServer,
  createServerWith,
  createSyncStore,
  createTestStore,
  nextTick,
  opts,
  record,
  sessionCookie,
  sid,
  signedCookie,
} from '../../support/express-helpers';
import session = require('../../../lib/express');

/** Raw GET that records when each chunk arrives and when the response ends. */
function rawGet(
  server: http.Server,
  path = '/',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; endedAt: number }> {
  return new Promise((resolve, reject) => {
    server.listen(0, () => {
      const { port } = server.address() as any;
      const req = http.get({ port, path, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          const endedAt = Date.now();
          server.close();
          resolve({ status: res.statusCode!, headers: res.headers, body, endedAt });
        });
      });
      req.on('error', (e) => {
        server.close();
        reject(e);
      });
    });
  });
}

describe('the res.end patch', () => {
  it('a second res.end() is ignored and returns false', async () => {
    let second: any = 'unset';
    let threw: any;
    const server = createServer(opts(), (_req, res) => {
      res.end('first');
      try {
        second = res.end('second');
      } catch (e) {
        threw = e;
      }
    });
    await request(server).get('/').expect(200, 'first');
    expect(threw).toBeUndefined();
    expect(second).toBe(false);
  });

  it('commits the headers at end: a later setHeader fails as usual', async () => {
    const store = createTestStore();
    store.delay = 20;
    let code: any;
    const server = createServer(opts({ store }), (_req, res) => {
      res.end('x');
      try {
        res.setHeader('X-Late', '1');
      } catch (e: any) {
        code = e.code;
      }
    });
    const res = await request(server).get('/').expect(200, 'x');
    expect(code).toBe('ERR_HTTP_HEADERS_SENT');
    expect(res.headers['x-late']).toBeUndefined();
  });

  it('holds a Content-Length response until the store write finished', async () => {
    const store = createTestStore();
    store.delay = 60;
    let setDoneAt = 0;
    const origSet = store.set;
    store.set = function (this: any, id: string, s: any, cb: any) {
      return origSet.call(this, id, s, (err: any) => {
        setDoneAt = Date.now();
        cb(err);
      });
    };
    const server = createServer(opts({ store }), (_req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Length', '11');
      res.end('hello world');
    });
    const r = await rawGet(server);
    expect(r.body).toBe('hello world');
    expect(r.headers['content-length']).toBe('11');
    expect(setDoneAt).toBeGreaterThan(0);
    expect(r.endedAt).toBeGreaterThanOrEqual(setDoneAt);
    expect(store.length()).toBe(1);
  });

  it('holds a Content-Length response given as a Buffer, with an encoding', async () => {
    const store = createTestStore();
    store.delay = 30;
    const server = createServer(opts({ store }), (_req, res) => {
      res.setHeader('Content-Length', '4');
      res.end('6869216f', 'hex');
    });
    const r = await rawGet(server);
    expect(r.body).toBe('hi!o');
    expect(store.length()).toBe(1);
  });

  it('holds a chunked response until the store write finished', async () => {
    const store = createTestStore();
    store.delay = 60;
    let setDoneAt = 0;
    const origSet = store.set;
    store.set = function (this: any, id: string, s: any, cb: any) {
      return origSet.call(this, id, s, (err: any) => {
        setDoneAt = Date.now();
        cb(err);
      });
    };
    const server = createServer(opts({ store }), (_req, res) => res.end('chunked body'));
    const r = await rawGet(server);
    expect(r.body).toBe('chunked body');
    expect(r.endedAt).toBeGreaterThanOrEqual(setDoneAt);
    expect(setDoneAt).toBeGreaterThan(0);
  });

  it('res.write before res.end delivers the whole body', async () => {
    const store = createTestStore();
    const server = createServer(opts({ store }), (req, res) => {
      res.write('hello, ');
      req.session.x = 1;
      res.end('world');
    });
    const res = await request(server).get('/').expect(200, 'hello, world');
    expect(sessionCookie(res)).toBeDefined();
    await nextTick();
    expect(store.read(sid(res)!).x).toBe(1);
  });

  it('an empty res.end() with a pending store write completes', async () => {
    const store = createTestStore();
    store.delay = 20;
    const server = createServer(opts({ store }), (_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    const res = await request(server).get('/').expect(204);
    expect(sessionCookie(res)).toBeDefined();
    expect(store.length()).toBe(1);
  });

  it('works with a synchronous store', async () => {
    const store = createSyncStore();
    const server = createServer(opts({ store }), (req, res) => {
      req.session.v = 'sync';
      res.setHeader('Content-Length', '5');
      res.end('hello');
    });
    const res = await request(server).get('/').expect(200, 'hello');
    expect(store.read(sid(res)!).v).toBe('sync');
  });

  it('works with a synchronous store, res.write first, and no content length', async () => {
    const store = createSyncStore();
    store.write('s1', record({ v: 1 }));
    const server = createServer(opts({ store, resave: false }), (_req, res) => {
      res.write('a');
      res.end('b');
    });
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect(200, 'ab');
    expect(store.calls.touch).toBe(1);
  });

  it('a synchronous store with unset destroy still delivers the whole written body', async () => {
    const store = createSyncStore();
    store.write('s1', record());
    const server = createServer(opts({ store, unset: 'destroy' }), (req, res) => {
      req.session = null;
      res.write('hello, ');
      res.end('world');
    });
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect(200, 'hello, world');
    expect(store.length()).toBe(0);
  });

  it('uses the captured res.write even if res.write/res.end are patched afterwards', async () => {
    const store = createTestStore();
    store.delay = 10;
    const server = createServerWith(
      [
        session(opts({ store })) as any,
        (_req, res, next) => {
          const write = res.write;
          const end = res.end;
          let ended = false;
          res.write = function (this: any, ...args: any[]) {
            if (ended) throw new Error('write after patched end');
            return write.apply(this, args);
          };
          res.end = function (this: any, ...args: any[]) {
            ended = true;
            return end.apply(this, args);
          };
          next();
        },
      ],
      (_req, res) => {
        res.setHeader('Content-Length', '5');
        res.end('hello');
      },
    );
    await request(server).get('/').expect(200, 'hello');
    expect(server.errors).toHaveLength(0);
  });

  it('a request without session (path mismatch) ends normally', async () => {
    const server = createServer(opts({ cookie: { path: '/x' } }), (_req, res) => res.end('plain'));
    await request(server).get('/y').expect(200, 'plain');
  });

  it('with unset destroy, the response waits for the destroy', async () => {
    const store = createTestStore();
    store.write('s1', record());
    store.delay = 40;
    const server = createServer(opts({ store, unset: 'destroy' }), (req, res) => {
      req.session = null;
      res.end('gone');
    });
    await request(server).get('/').set('Cookie', signedCookie('s1')).expect(200, 'gone');
    expect(store.length()).toBe(0);
  });

  it('a HEAD request completes', async () => {
    const server = createServer(opts(), (_req, res) => res.end('ignored'));
    const res = await request(server).head('/').expect(200);
    expect(sessionCookie(res)).toBeDefined();
  });
});
