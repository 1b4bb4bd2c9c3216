process.env.NO_DEPRECATION = 'express-session';

import { EventEmitter } from 'node:events';
import * as util from 'node:util';
import request = require('supertest');
import { createServerWith, createTestStore } from '../../support/express-helpers';
import session = require('../../../lib/express');

describe('nest-session/express module shape', () => {
  it('exports a callable factory returning a 3-argument middleware', () => {
    expect(typeof session).toBe('function');
    const mw = session({ secret: 'x', resave: false, saveUninitialized: false });
    expect(typeof mw).toBe('function');
    expect(mw.length).toBe(3);
  });

  it('exposes Store, MemoryStore, Session and Cookie constructors', () => {
    expect(typeof session.Store).toBe('function');
    expect(typeof session.MemoryStore).toBe('function');
    expect(typeof session.Session).toBe('function');
    expect(typeof session.Cookie).toBe('function');
  });

  it('Store is an EventEmitter that can be invoked with .call (ES5 style)', () => {
    const target: any = Object.create((session.Store as any).prototype);
    expect(() => (session.Store as any).call(target)).not.toThrow();
    expect(target).toBeInstanceOf(EventEmitter);
    expect((session.Store as any).super_).toBe(EventEmitter);
    const store = new (session.Store as any)();
    expect(store).toBeInstanceOf(EventEmitter);
    expect(typeof store.regenerate).toBe('function');
    expect(typeof store.load).toBe('function');
    expect(typeof store.createSession).toBe('function');
  });

  it('MemoryStore inherits from Store', () => {
    const store = new session.MemoryStore();
    try {
      expect(store).toBeInstanceOf(session.Store);
      expect(store).toBeInstanceOf(EventEmitter);
    } finally {
      (store as any).close?.();
    }
  });

  it('new Cookie() is an instance of Cookie', () => {
    expect(new session.Cookie()).toBeInstanceOf(session.Cookie);
  });
});

describe('factory-time validation', () => {
  it('accepts no options at all', () => {
    expect(typeof session()).toBe('function');
  });

  it('throws a TypeError when genid is not a function', () => {
    expect(() => session({ secret: 'x', genid: 'nope' } as any)).toThrow(TypeError);
    expect(() => session({ secret: 'x', genid: 42 } as any)).toThrow(
      'genid option must be a function',
    );
  });

  it('throws a TypeError for an empty secret array', () => {
    expect(() => session({ secret: [] } as any)).toThrow(TypeError);
    expect(() => session({ secret: [] } as any)).toThrow(
      'secret option array must contain one or more strings',
    );
  });

  it('throws a TypeError for an invalid unset value', () => {
    expect(() => session({ secret: 'x', unset: 'bogus' } as any)).toThrow(TypeError);
    expect(() => session({ secret: 'x', unset: 'bogus' } as any)).toThrow(
      'unset option must be "destroy" or "keep"',
    );
  });

  it('accepts unset "keep", "destroy" and falsy values', () => {
    for (const unset of ['keep', 'destroy', '', null, 0, undefined]) {
      expect(() => session({ secret: 'x', unset } as any)).not.toThrow();
    }
  });

  it('throws when the store has no `on` method', () => {
    const store = { get() {}, set() {}, destroy() {} };
    expect(() => session({ secret: 'x', store } as any)).toThrow(TypeError);
  });

  it('adds one connect and one disconnect listener per factory call', () => {
    const store = createTestStore();
    session({ secret: 'x', store } as any);
    expect(store.listenerCount('connect')).toBe(1);
    expect(store.listenerCount('disconnect')).toBe(1);
    session({ secret: 'x', store } as any);
    expect(store.listenerCount('connect')).toBe(2);
    expect(store.listenerCount('disconnect')).toBe(2);
  });

  it('installs a generate function on the store', () => {
    const store = createTestStore();
    expect(store.generate).toBeUndefined();
    session({ secret: 'x', store } as any);
    expect(typeof store.generate).toBe('function');
  });

  it('does not mutate the secret option', () => {
    const secret = ['a', 'b'];
    session({ secret } as any);
    expect(secret).toEqual(['a', 'b']);
  });
});

describe('deprecation notices (namespace express-session)', () => {
  let seen: any[];
  const onDep = (err: any) => seen.push(err);
  beforeEach(() => {
    seen = [];
    process.on('deprecation' as any, onDep);
  });
  afterEach(() => {
    process.removeListener('deprecation' as any, onDep);
  });

  it('are emitted for undefined resave and saveUninitialized', () => {
    session({ secret: 'x' });
    const msgs = seen.filter((e) => e.namespace === 'express-session').map((e) => e.message);
    expect(msgs.some((m: string) => /resave/.test(m))).toBe(true);
    expect(msgs.some((m: string) => /saveUninitialized/.test(m))).toBe(true);
  });

  it('are emitted when no secret is given', () => {
    session({ resave: false, saveUninitialized: false });
    const msgs = seen.filter((e) => e.namespace === 'express-session').map((e) => e.message);
    expect(msgs.some((m: string) => /secret/.test(m))).toBe(true);
  });

  it('are not emitted when every option is explicit', () => {
    session({ secret: 'x', resave: true, saveUninitialized: true });
    expect(seen.filter((e) => e.namespace === 'express-session')).toHaveLength(0);
  });

  it('are emitted for a maxAge given as a Date', () => {
    const c = new session.Cookie();
    c.maxAge = new Date(Date.now() + 1000) as any;
    expect(seen.filter((e) => e.namespace === 'express-session').length).toBeGreaterThan(0);
  });
});

describe('deprecation and warnings at request time', () => {
  it('reading the ID from cookie-parser data emits a deprecation notice', async () => {
    const seen: any[] = [];
    const onDep = (err: any) => seen.push(err);
    process.on('deprecation' as any, onDep);
    try {
      const store = createTestStore();
      store.write('abc', { cookie: { originalMaxAge: null, expires: null } });
      const mw = session({ secret: 'x', resave: false, saveUninitialized: false, store });
      expect(seen).toHaveLength(0);
      const server = createServerWith(
        [
          (req, _res, next) => {
            req.signedCookies = { 'connect.sid': 'abc' };
            next();
          },
          mw as any,
        ],
        (req, res) => res.end(req.sessionID),
      );
      await request(server).get('/').expect('abc');
      expect(seen.filter((e) => e.namespace === 'express-session')).toHaveLength(1);
    } finally {
      process.removeListener('deprecation' as any, onDep);
    }
  });

  it('warns about MemoryStore in production only', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const env = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'production';
      session({ secret: 'x', resave: false, saveUninitialized: false });
      expect(warn).toHaveBeenCalled();
      expect(String(warn.mock.calls[0]![0])).toMatch(/MemoryStore/);
      warn.mockClear();
      process.env.NODE_ENV = 'test';
      session({ secret: 'x', resave: false, saveUninitialized: false });
      expect(warn).not.toHaveBeenCalled();
      process.env.NODE_ENV = 'production';
      session({
        secret: 'x',
        resave: false,
        saveUninitialized: false,
        store: createTestStore() as any,
      });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      process.env.NODE_ENV = env;
      warn.mockRestore();
    }
  });
});

describe('util.inherits compatibility', () => {
  it('an ES5 child of Store gets the Store prototype methods', () => {
    function Child(this: any) {
      (session.Store as any).call(this);
    }
    util.inherits(Child as any, session.Store as any);
    const c = new (Child as any)();
    expect(c).toBeInstanceOf(session.Store);
    expect(typeof c.createSession).toBe('function');
    expect(typeof c.on).toBe('function');
  });
});
