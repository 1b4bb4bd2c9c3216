/**
 * Test harness for the drop-in `nest-session/express` middleware (lib/express.ts).
 *
 * Importing this module silences the express-session deprecation notices, so it must be
 * imported (or NO_DEPRECATION set) before lib/express is loaded.
 */
process.env.NO_DEPRECATION = 'express-session';

import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as util from 'node:util';
import session = require('../../lib/express');

export type Req = any;
export type Res = any;
export type Next = (err?: any) => void;
export type Middleware = (req: Req, res: Res, next: Next) => unknown;
export type Handler = (req: Req, res: Res) => unknown;

export interface TestServer extends http.Server {
  /** every error that reached the harness through next(err) */
  errors: any[];
  /** errors thrown synchronously out of a middleware */
  thrown: any[];
}

export const SECRET = 'keyboard cat';

/**
 * An http server that runs the given middlewares in order, then `handler` (default: `res.end()`).
 * next(err) is recorded in `server.errors`, emitted as 'error' on the server when someone listens
 * for it, and turned into a 500 text response with err.message as body when headers are not sent.
 */
export function createServerWith(middlewares: Middleware[], handler?: Handler): TestServer {
  const server = http.createServer() as TestServer;
  server.errors = [];
  server.thrown = [];

  const fail = (req: Req, res: Res, err: any): void => {
    server.errors.push(err);
    if (server.listenerCount('error') > 0) server.emit('error', err, req, res);
    if (!res.headersSent) {
      res.statusCode = 500;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(String(err && err.message));
    }
  };

  server.on('request', (req: Req, res: Res) => {
    const run = (i: number): void => {
      if (i === middlewares.length) {
        if (handler) handler(req, res);
        else res.end();
        return;
      }
      const mw = middlewares[i]!;
      let thrown: unknown;
      let didThrow = false;
      try {
        mw(req, res, (err?: any) => {
          if (err) fail(req, res, err);
          else run(i + 1);
        });
      } catch (e) {
        thrown = e;
        didThrow = true;
      }
      if (didThrow) {
        server.thrown.push(thrown);
        fail(req, res, thrown);
      }
    };
    run(0);
  });
  return server;
}

/** An http server running `session(options)` and then `handler`. */
export function createServer(options?: any, handler?: Handler): TestServer {
  return createServerWith([session(options) as Middleware], handler);
}

/** Default options used by most tests (explicit values, so no deprecation path is involved). */
export function opts(extra?: Record<string, unknown>): any {
  return { secret: SECRET, resave: false, saveUninitialized: true, ...extra };
}

// ---------------------------------------------------------------------------------------------
// cookies

/** All Set-Cookie lines of a supertest response. */
export function setCookies(res: any): string[] {
  const h = res.headers['set-cookie'];
  if (!h) return [];
  return Array.isArray(h) ? h : [h];
}

/** The full Set-Cookie line for the session cookie, or undefined. */
export function sessionCookie(res: any, name = 'connect.sid'): string | undefined {
  return setCookies(res).find((c) => c.startsWith(name + '='));
}

/** `name=value` of the session cookie, ready to be sent back in a Cookie header. */
export function cookie(res: any, name = 'connect.sid'): string {
  const c = sessionCookie(res, name);
  if (!c) throw new Error('no ' + name + ' cookie in response');
  return c.split(';')[0]!;
}

/** The (URL-encoded) value of the session cookie. */
export function cookieValue(res: any, name = 'connect.sid'): string | undefined {
  const c = sessionCookie(res, name);
  if (!c) return undefined;
  return c.split(';')[0]!.slice(name.length + 1);
}

/** The session ID carried by the session cookie (the part between `s:` and the last `.`). */
export function sid(res: any, name = 'connect.sid'): string | undefined {
  const v = cookieValue(res, name);
  if (v === undefined) return undefined;
  const raw = decodeURIComponent(v);
  if (!raw.startsWith('s:')) return undefined;
  return raw.slice(2, raw.lastIndexOf('.'));
}

/** The attribute list of the session cookie (after name=value). */
export function attributes(res: any, name = 'connect.sid'): string[] {
  const c = sessionCookie(res, name);
  if (!c) return [];
  return c
    .split(';')
    .slice(1)
    .map((s) => s.trim());
}

/** The Expires attribute of the session cookie, as epoch ms, or undefined when absent. */
export function expires(res: any, name = 'connect.sid'): number | undefined {
  const attr = attributes(res, name).find((a) => /^expires=/i.test(a));
  if (!attr) return undefined;
  return Date.parse(attr.slice('expires='.length));
}

/** The Date header of a response, as epoch ms. */
export function dateHeader(res: any): number {
  return Date.parse(res.headers.date);
}

/** cookie-signature 1.x signing: value.base64(HMAC-SHA256) without padding. */
export function sign(value: string, secret: string | Buffer = SECRET): string {
  return (
    value + '.' + createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')
  );
}

/** A Cookie header value carrying a signed session ID. */
export function signedCookie(
  id: string,
  secret: string | Buffer = SECRET,
  name = 'connect.sid',
): string {
  return name + '=' + encodeURIComponent('s:' + sign(id, secret));
}

// ---------------------------------------------------------------------------------------------
// timing

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Polls until cond() is true (or throws after `timeout` ms). */
export async function waitFor(cond: () => boolean, timeout = 1000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeout) throw new Error('waitFor: condition not met in time');
    await delay(5);
  }
}

// ---------------------------------------------------------------------------------------------
// stores

export interface CallCounts {
  get: number;
  set: number;
  touch: number;
  destroy: number;
}

/**
 * Callback-style store written the ES5 way (`Store.call(this)` + `util.inherits`). It keeps
 * JSON strings in `data`, calls back on setImmediate and counts calls.
 */
export interface TestStoreInstance extends EventEmitter {
  data: Map<string, string>;
  calls: CallCounts;
  /** IDs passed to set/touch/destroy, in call order */
  log: string[];
  /** optional hook that can delay / fail operations */
  delay: number;
  failOn: Partial<Record<keyof CallCounts, Error>>;
  get(sid: string, cb: (err: any, sess?: any) => void): void;
  set(sid: string, sess: any, cb?: (err?: any) => void): void;
  touch(sid: string, sess: any, cb?: (err?: any) => void): void;
  destroy(sid: string, cb?: (err?: any) => void): void;
  length(): number;
  read(sid: string): any;
  write(sid: string, sess: any): void;
  [key: string]: any;
}

function TestStoreCtor(this: any, sync?: boolean): void {
  (session.Store as any).call(this);
  this.data = new Map<string, string>();
  this.calls = { get: 0, set: 0, touch: 0, destroy: 0 };
  this.log = [];
  this.delay = 0;
  this.failOn = {};
  this.sync = Boolean(sync);
}
util.inherits(TestStoreCtor as any, session.Store as any);

function later(store: any, fn: () => void): void {
  if (store.sync) fn();
  else if (store.delay > 0) setTimeout(fn, store.delay);
  else setImmediate(fn);
}

Object.assign((TestStoreCtor as any).prototype, {
  get(this: any, sid: string, cb: (err: any, sess?: any) => void) {
    this.calls.get++;
    const err = this.failOn.get;
    const raw = this.data.get(sid);
    later(this, () => (err ? cb(err) : cb(null, raw === undefined ? undefined : JSON.parse(raw))));
  },
  set(this: any, sid: string, sess: any, cb?: (err?: any) => void) {
    this.calls.set++;
    this.log.push('set:' + sid);
    const err = this.failOn.set;
    const raw = JSON.stringify(sess);
    later(this, () => {
      if (!err) this.data.set(sid, raw);
      if (cb) cb(err || null);
    });
  },
  touch(this: any, sid: string, sess: any, cb?: (err?: any) => void) {
    this.calls.touch++;
    this.log.push('touch:' + sid);
    const err = this.failOn.touch;
    const cookieJson = JSON.stringify(sess.cookie);
    later(this, () => {
      if (!err) {
        const raw = this.data.get(sid);
        if (raw !== undefined) {
          const obj = JSON.parse(raw);
          obj.cookie = JSON.parse(cookieJson);
          this.data.set(sid, JSON.stringify(obj));
        }
      }
      if (cb) cb(err || null);
    });
  },
  destroy(this: any, sid: string, cb?: (err?: any) => void) {
    this.calls.destroy++;
    this.log.push('destroy:' + sid);
    const err = this.failOn.destroy;
    later(this, () => {
      if (!err) this.data.delete(sid);
      if (cb) cb(err || null);
    });
  },
  length(this: any) {
    return this.data.size;
  },
  read(this: any, sid: string) {
    const raw = this.data.get(sid);
    return raw === undefined ? undefined : JSON.parse(raw);
  },
  write(this: any, sid: string, sess: any) {
    this.data.set(sid, JSON.stringify(sess));
  },
});

/** Asynchronous (setImmediate, or `delay` ms) counting store. */
export function createTestStore(): TestStoreInstance {
  return new (TestStoreCtor as any)(false);
}

/** Store that calls every callback synchronously. */
export function createSyncStore(): TestStoreInstance {
  return new (TestStoreCtor as any)(true);
}

/** The ES5 constructor itself (for instanceof checks). */
export const TestStore: any = TestStoreCtor;

/** A stored record as the middleware would persist it. */
export function record(
  data: Record<string, unknown> = {},
  cookieData?: Record<string, unknown>,
): any {
  return {
    cookie: cookieData ?? { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
    ...data,
  };
}

/** Reads a MemoryStore (callback API) into a promise. */
export function memGet(store: any, id: string): Promise<any> {
  return new Promise((resolve, reject) =>
    store.get(id, (err: any, sess: any) => (err ? reject(err) : resolve(sess))),
  );
}

export function memLength(store: any): Promise<number> {
  return new Promise((resolve, reject) =>
    store.length((err: any, n: number) => (err ? reject(err) : resolve(n))),
  );
}

export function memAll(store: any): Promise<any> {
  return new Promise((resolve, reject) =>
    store.all((err: any, all: any) => (err ? reject(err) : resolve(all))),
  );
}

export function memSet(store: any, id: string, sess: any): Promise<void> {
  return new Promise((resolve, reject) =>
    store.set(id, sess, (err: any) => (err ? reject(err) : resolve())),
  );
}

export { session };
