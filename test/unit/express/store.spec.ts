process.env.NO_DEPRECATION = 'express-session';

import { EventEmitter } from 'node:events';
import * as util from 'node:util';
import request = require('supertest');
import {
  createServer,
  createTestStore,
  cookie,
  opts,
  sid,
  signedCookie,
} from '../../support/express-helpers';
import session = require('../../../lib/express');

const Session: any = session.Session;
const Cookie: any = session.Cookie;

/** ES5-style in-memory store */
function Es5Store(this: any) {
  (session.Store as any).call(this);
  this.map = new Map<string, string>();
}
util.inherits(Es5Store as any, session.Store as any);
Object.assign((Es5Store as any).prototype, {
  get(this: any, id: string, cb: any) {
    const v = this.map.get(id);
    setImmediate(() => cb(null, v ? JSON.parse(v) : null));
  },
  set(this: any, id: string, s: any, cb: any) {
    this.map.set(id, JSON.stringify(s));
    setImmediate(() => cb && cb());
  },
  destroy(this: any, id: string, cb: any) {
    this.map.delete(id);
    setImmediate(() => cb && cb());
  },
});

/** ES2015 class style store with async methods that also take callbacks (connect-redis v7 style) */
class ClassStore extends (session.Store as any) {
  map = new Map<string, string>();
  constructor() {
    super();
  }
  async get(id: string, cb: any = () => {}) {
    const v = this.map.get(id);
    const s = v ? JSON.parse(v) : null;
    cb(null, s);
    return s;
  }
  async set(id: string, s: any, cb: any = () => {}) {
    this.map.set(id, JSON.stringify(s));
    cb(null);
  }
  async destroy(id: string, cb: any = () => {}) {
    this.map.delete(id);
    cb(null);
  }
}

describe('Store base', () => {
  describe('subclassing', () => {
    it('ES5 style: Store.call(this) + util.inherits', () => {
      const s = new (Es5Store as any)();
      expect(s).toBeInstanceOf(session.Store);
      expect(s).toBeInstanceOf(EventEmitter);
      let got = 0;
      s.on('x', () => got++);
      s.emit('x');
      expect(got).toBe(1);
    });

    it('class style: class X extends Store', () => {
      const s: any = new ClassStore();
      expect(s).toBeInstanceOf(session.Store);
      expect(s).toBeInstanceOf(EventEmitter);
      expect(typeof s.createSession).toBe('function');
      expect(typeof s.load).toBe('function');
      expect(typeof s.regenerate).toBe('function');
    });

    it.each([
      ['ES5', () => new (Es5Store as any)()],
      ['class', () => new ClassStore()],
    ])('a %s store works with the middleware across requests', async (_n, make) => {
      const store: any = make();
      const server = createServer(opts({ store }), (req, res) => {
        req.session.count = (req.session.count || 0) + 1;
        res.end(String(req.session.count));
      });
      const r1 = await request(server).get('/').expect(200, '1');
      await request(server).get('/').set('Cookie', cookie(r1)).expect(200, '2');
      expect(store.map.size).toBe(1);
      expect(JSON.parse(store.map.get(sid(r1)!)).count).toBe(2);
    });
  });

  describe('createSession(req, sess)', () => {
    it('turns the stored cookie into a Cookie, with a string expires made a Date', () => {
      const store = new (session.Store as any)();
      const req: any = { sessionID: 'id1', sessionStore: store };
      const exp = new Date(Date.now() + 60000);
      const data = {
        cookie: { originalMaxAge: 60000, expires: exp.toISOString(), httpOnly: true, path: '/' },
        user: 'bob',
      };
      const s = store.createSession(req, data);
      expect(s).toBe(req.session);
      expect(s).toBeInstanceOf(Session);
      expect(s.id).toBe('id1');
      expect(s.user).toBe('bob');
      expect(s.cookie).toBeInstanceOf(Cookie);
      expect(s.cookie.expires).toBeInstanceOf(Date);
      expect(s.cookie.expires.getTime()).toBe(exp.getTime());
      expect(s.cookie.originalMaxAge).toBe(60000);
    });

    it('restores originalMaxAge even when the remaining time is shorter', () => {
      const store = new (session.Store as any)();
      const req: any = { sessionID: 'id1', sessionStore: store };
      const exp = new Date(Date.now() + 1000);
      const s = store.createSession(req, {
        cookie: { originalMaxAge: 3600000, expires: exp.toISOString() },
      });
      expect(s.cookie.originalMaxAge).toBe(3600000);
      s.touch();
      expect(s.cookie.maxAge).toBeGreaterThan(3590000);
    });

    it('leaves a Date expires as is', () => {
      const store = new (session.Store as any)();
      const req: any = { sessionID: 'id1', sessionStore: store };
      const exp = new Date(Date.now() + 5000);
      const s = store.createSession(req, { cookie: { originalMaxAge: 5000, expires: exp } });
      expect(s.cookie.expires.getTime()).toBe(exp.getTime());
    });

    it('keeps a null expiry', () => {
      const store = new (session.Store as any)();
      const req: any = { sessionID: 'id1', sessionStore: store };
      const s = store.createSession(req, {
        cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
      });
      expect(s.cookie.expires).toBeNull();
      expect(s.cookie.originalMaxAge).toBeNull();
    });

    it('keeps stored cookie attributes', () => {
      const store = new (session.Store as any)();
      const req: any = { sessionID: 'id1', sessionStore: store };
      const s = store.createSession(req, {
        cookie: { originalMaxAge: null, expires: null, domain: 'a.com', path: '/x', secure: true },
      });
      expect(s.cookie.domain).toBe('a.com');
      expect(s.cookie.path).toBe('/x');
      expect(s.cookie.secure).toBe(true);
    });

    it('throws a TypeError when the record has no cookie', () => {
      const store = new (session.Store as any)();
      const req: any = { sessionID: 'id1', sessionStore: store };
      expect(() => store.createSession(req, { foo: 1 })).toThrow(/Cannot read prop/);
    });
  });

  describe('load(sid, fn)', () => {
    it('gives a Session when found', async () => {
      const store = createTestStore();
      store.write('a', { cookie: { originalMaxAge: null, expires: null }, x: 1 });
      const [err, sess] = await new Promise<any[]>((resolve) =>
        store.load('a', (...args: any[]) => resolve(args)),
      );
      expect(err).toBeNull();
      expect(sess).toBeInstanceOf(Session);
      expect(sess.id).toBe('a');
      expect(sess.x).toBe(1);
      expect(sess.req.sessionStore).toBe(store);
      expect(sess.req.sessionID).toBe('a');
    });

    it('calls fn with no arguments when not found', async () => {
      const store = createTestStore();
      const args = await new Promise<any[]>((resolve) =>
        store.load('missing', (...a: any[]) => resolve(a)),
      );
      expect(args).toHaveLength(0);
    });

    it('passes errors on', async () => {
      const store = createTestStore();
      store.failOn.get = new Error('nope');
      const args = await new Promise<any[]>((resolve) =>
        store.load('a', (...a: any[]) => resolve(a)),
      );
      expect(args[0].message).toBe('nope');
      expect(args[1]).toBeUndefined();
    });
  });

  describe('regenerate(req, fn)', () => {
    it('destroys the old session, then generates a new one', async () => {
      const store = createTestStore();
      store.write('old', { cookie: {} });
      const order: string[] = [];
      store.generate = (req: any) => {
        order.push('generate:' + store.length());
        req.sessionID = 'new';
        req.session = new Session(req);
      };
      const req: any = { sessionID: 'old', sessionStore: store };
      const err = await new Promise((resolve) => store.regenerate(req, resolve));
      expect(err == null).toBe(true);
      expect(store.log).toEqual(['destroy:old']);
      expect(order).toEqual(['generate:0']);
      expect(req.sessionID).toBe('new');
      expect(req.session.id).toBe('new');
    });

    it('still generates and passes the destroy error on', async () => {
      const store = createTestStore();
      store.failOn.destroy = new Error('destroy failed');
      let generated = 0;
      store.generate = (req: any) => {
        generated++;
        req.sessionID = 'new';
      };
      const req: any = { sessionID: 'old', sessionStore: store };
      const err: any = await new Promise((resolve) => store.regenerate(req, resolve));
      expect(err.message).toBe('destroy failed');
      expect(generated).toBe(1);
      expect(req.sessionID).toBe('new');
    });
  });

  describe('with the middleware', () => {
    it('uses a store-level createSession override when loading', async () => {
      const store = createTestStore();
      store.write('abc', { cookie: { originalMaxAge: null, expires: null }, v: 1 });
      const base = store.createSession;
      let calls = 0;
      store.createSession = function (this: any, req: any, sess: any) {
        calls++;
        return base.call(this, req, sess);
      };
      const server = createServer(opts({ store }), (req, res) => res.end(String(req.session.v)));
      await request(server).get('/').set('Cookie', signedCookie('abc')).expect(200, '1');
      expect(calls).toBe(1);
    });
  });
});
