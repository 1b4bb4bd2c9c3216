process.env.NO_DEPRECATION = 'express-session';

import { createTestStore, nextTick } from '../../support/express-helpers';
import session = require('../../../lib/express');

const Session: any = session.Session;
const Cookie: any = session.Cookie;

function fakeReq(id = 'abc', store: any = createTestStore()): any {
  return { sessionID: id, sessionStore: store };
}

describe('Session (unit)', () => {
  describe('construction', () => {
    it('takes its id from req.sessionID', () => {
      const s = new Session(fakeReq('the-id'));
      expect(s.id).toBe('the-id');
    });

    it('id and req are non-enumerable, read-only and non-configurable', () => {
      const req = fakeReq('x');
      const s = new Session(req);
      for (const key of ['id', 'req']) {
        const d = Object.getOwnPropertyDescriptor(s, key)!;
        expect(d).toBeDefined();
        expect(d.enumerable).toBe(false);
        expect(d.writable).toBe(false);
        expect(d.configurable).toBe(false);
      }
      expect(s.req).toBe(req);
      expect(() => {
        s.id = 'other';
      }).toThrow(TypeError);
      expect(s.id).toBe('x');
    });

    it('keeps its id when req.sessionID changes later', () => {
      const req = fakeReq('a');
      const s = new Session(req);
      req.sessionID = 'b';
      expect(s.id).toBe('a');
    });

    it('copies data keys', () => {
      const s = new Session(fakeReq(), { foo: 'bar', n: 1, nested: { a: [1, 2] } });
      expect(s.foo).toBe('bar');
      expect(s.n).toBe(1);
      expect(s.nested).toEqual({ a: [1, 2] });
    });

    it('copies inherited enumerable keys too', () => {
      const data = Object.create({ inherited: 'yes' });
      data.own = 'also';
      const s = new Session(fakeReq(), data);
      expect(s.inherited).toBe('yes');
      expect(s.own).toBe('also');
    });

    it('ignores a non-object data argument', () => {
      const s = new Session(fakeReq(), null);
      expect(Object.keys(s)).toEqual([]);
    });

    it('drops data keys named like methods or id/req', () => {
      const store = createTestStore();
      const req = fakeReq('real', store);
      const s = new Session(req, {
        id: 'fake',
        req: 'fake',
        save: 'x',
        reload: 'x',
        touch: 'x',
        resetMaxAge: 'x',
        destroy: 'x',
        regenerate: 'x',
        keep: 1,
      });
      expect(s.id).toBe('real');
      expect(s.req).toBe(req);
      for (const m of ['save', 'reload', 'touch', 'resetMaxAge', 'destroy', 'regenerate']) {
        expect(typeof s[m]).toBe('function');
      }
      expect(Object.keys(s)).toEqual(['keep']);
    });

    it('drops Object.prototype members and cannot be prototype-polluted', () => {
      const data = JSON.parse(
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},' +
          '"toString":"x","hasOwnProperty":"x","ok":1}',
      );
      const s = new Session(fakeReq(), data);
      expect(({} as any).polluted).toBeUndefined();
      expect(s.polluted).toBeUndefined();
      expect(Object.getPrototypeOf(s)).toBe(Session.prototype);
      expect(typeof s.toString).toBe('function');
      expect(typeof s.hasOwnProperty).toBe('function');
      expect(s.constructor).toBe(Session);
      expect(Object.keys(s)).toEqual(['ok']);
    });
  });

  describe('visibility', () => {
    it('Object.keys gives exactly cookie plus the data', () => {
      const s = new Session(fakeReq(), { cookie: new Cookie(), test1: 1, test2: 2 });
      expect(Object.keys(s).join(',')).toBe('cookie,test1,test2');
    });

    it('for...in gives cookie plus the data', () => {
      const s = new Session(fakeReq(), { foo: 1, cookie: new Cookie(), bar: 2 });
      const keys: string[] = [];
      for (const k in s) keys.push(k);
      expect(keys.sort().join(',')).toBe('bar,cookie,foo');
    });

    it('JSON.stringify omits id and req and uses Cookie#toJSON', () => {
      const s = new Session(fakeReq(), { cookie: new Cookie(), a: 1 });
      expect(JSON.parse(JSON.stringify(s))).toEqual({
        cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
        a: 1,
      });
    });
  });

  describe('touch / resetMaxAge', () => {
    it('resetMaxAge puts maxAge back to originalMaxAge and returns this', () => {
      const s = new Session(fakeReq(), { cookie: new Cookie({ maxAge: 60000 }) });
      s.cookie.expires = new Date(Date.now() + 10);
      s.cookie.originalMaxAge = 60000;
      expect(s.resetMaxAge()).toBe(s);
      expect(s.cookie.maxAge).toBeGreaterThan(59000);
    });

    it('touch does the same', () => {
      const s = new Session(fakeReq(), { cookie: new Cookie({ maxAge: 60000 }) });
      s.cookie.expires = new Date(Date.now() + 10);
      s.cookie.originalMaxAge = 60000;
      expect(s.touch()).toBe(s);
      expect(s.cookie.maxAge).toBeGreaterThan(59000);
    });

    it('with a null originalMaxAge, expires becomes null', () => {
      const s = new Session(fakeReq(), { cookie: new Cookie() });
      s.touch();
      expect(s.cookie.expires).toBeNull();
    });
  });

  describe('store-backed methods', () => {
    it('save(fn) writes under this.id through req.sessionStore and returns this', async () => {
      const store = createTestStore();
      const req = fakeReq('sid1', store);
      const s = new Session(req, { cookie: new Cookie(), a: 1 });
      let called = 0;
      expect(s.save(() => called++)).toBe(s);
      await nextTick();
      await nextTick();
      expect(called).toBe(1);
      expect(store.read('sid1')).toEqual({
        cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
        a: 1,
      });
    });

    it('save(fn) passes store errors to fn', async () => {
      const store = createTestStore();
      store.failOn.set = new Error('boom');
      const s = new Session(fakeReq('sid1', store), { cookie: new Cookie() });
      const err = await new Promise((resolve) => s.save(resolve));
      expect((err as Error).message).toBe('boom');
    });

    it('reload(fn) replaces req.session with the stored data', async () => {
      const store = createTestStore();
      store.write('sid1', { cookie: new Cookie(), v: 'new' });
      const req = fakeReq('sid1', store);
      const s = new Session(req, { cookie: new Cookie(), v: 'old' });
      req.session = s;
      const err = await new Promise((resolve) => s.reload(resolve));
      expect(err == null).toBe(true);
      expect(req.session).not.toBe(s);
      expect(req.session).toBeInstanceOf(Session);
      expect(req.session.v).toBe('new');
      expect(req.session.cookie).toBeInstanceOf(Cookie);
    });

    it("reload(fn) fails with 'failed to load session' when missing", async () => {
      const store = createTestStore();
      const req = fakeReq('gone', store);
      const s = new Session(req, { cookie: new Cookie() });
      req.session = s;
      const err: any = await new Promise((resolve) => s.reload(resolve));
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toBe('failed to load session');
      expect(req.session).toBe(s);
    });

    it('reload(fn) passes store errors', async () => {
      const store = createTestStore();
      store.failOn.get = new Error('get failed');
      const req = fakeReq('x', store);
      const s = new Session(req, { cookie: new Cookie() });
      req.session = s;
      const err: any = await new Promise((resolve) => s.reload(resolve));
      expect(err.message).toBe('get failed');
      expect(req.session).toBe(s);
    });

    it('destroy(fn) removes req.session and the stored copy', async () => {
      const store = createTestStore();
      store.write('sid1', { cookie: new Cookie() });
      const req = fakeReq('sid1', store);
      const s = new Session(req, { cookie: new Cookie() });
      req.session = s;
      const err = await new Promise((resolve) => s.destroy(resolve));
      expect(err == null).toBe(true);
      expect('session' in req).toBe(false);
      expect(store.length()).toBe(0);
      expect(store.log).toEqual(['destroy:sid1']);
    });

    it('regenerate(fn) delegates to store.regenerate(req, fn)', () => {
      const store = createTestStore();
      const req = fakeReq('sid1', store);
      const s = new Session(req, { cookie: new Cookie() });
      const calls: any[] = [];
      store.regenerate = (r: any, fn: any) => calls.push([r, fn]);
      const fn = jest.fn();
      s.regenerate(fn);
      expect(calls).toHaveLength(1);
      expect(calls[0][0]).toBe(req);
      const err = new Error('e');
      calls[0][1](err);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(fn.mock.calls[0]![0]).toBe(err);
    });
  });
});
