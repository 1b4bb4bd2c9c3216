/**
 * The session id in a header, below HTTP frameworks: which transport a request gets, how a
 * header value is verified (the cookie's rules), what the header transport writes, the CORS
 * helper, the `header` option's validation, and the drop-in with `header` over `node:http`.
 */
process.env.NO_DEPRECATION = 'express-session';
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import session = require('../../../lib/express');
import { resolveModuleOptions } from '../../../lib/nest/resolve-module-options';
import { SessionOptionsError } from '../../../lib';
import type { SessionRequest } from '../../../lib/engine/session';
import { sessionHeaderProblem } from '../../../lib/engine/session-options';
import { prepareKey } from '../../../lib/engine/signature';
import { SignedCookieTransport } from '../../../lib/engine/transport/cookie-transport';
import {
  SignedHeaderTransport,
  headerOrCookieTransport,
  readHeaderSessionId,
} from '../../../lib/engine/transport/header-transport';
import { exposeSessionHeaderToCors } from '../../../lib/engine/transport/node/cors-exposure';
import { VerifiedCookieCache } from '../../../lib/engine/transport/session-cookie';
import { PerRequestTransport } from '../../../lib/engine/transport/transport';
import { SECRET, createServerWith } from '../../support/express-helpers';

const NAME = 'x-session-id';
const ID = 'abcdefghijklmnopqrstuvwxyz012345';
const OTHER_SECRET = 'another secret, also long enough for the tests';

/** `s:<id>.<base64 HMAC-SHA256>`: the cookie's value, and the header's. */
function signedCookie(id: string, secret = SECRET): string {
  return `s:${id}.${createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')}`;
}

function req(headers: Record<string, string | string[]> = {}, url = '/'): SessionRequest {
  return { headers, url, method: 'GET', socket: {} } as unknown as SessionRequest;
}

/** A ServerResponse stand-in: headers in a map, `writeHead` recorded. */
function res(): ServerResponse & { heads: number } {
  const headers = new Map<string, unknown>();
  const target = {
    heads: 0,
    statusCode: 200,
    getHeader: (n: string) => headers.get(n.toLowerCase()),
    setHeader: (n: string, v: unknown) => void headers.set(n.toLowerCase(), v),
    removeHeader: (n: string) => void headers.delete(n.toLowerCase()),
    writeHead(this: { heads: number }) {
      this.heads++;
      return this;
    },
  };
  return target as unknown as ServerResponse & { heads: number };
}

const cookie = new SignedCookieTransport({
  name: 'sid',
  isValidId: undefined,
  proxy: undefined,
  cache: false,
});

describe('the transport a request gets', () => {
  const composed = headerOrCookieTransport(NAME, cookie, { isValidId: undefined, cache: false });

  it('the header transport when the request carries the header, even empty', () => {
    expect(composed.forRequest(req({ [NAME]: signedCookie(ID) }))).toBeInstanceOf(
      SignedHeaderTransport,
    );
    expect(composed.forRequest(req({ [NAME]: '' }))).toBeInstanceOf(SignedHeaderTransport);
    expect(composed.forRequest(req({ [NAME]: '', cookie: `sid=${signedCookie(ID)}` }))).toBe(
      composed.first,
    );
  });

  it('the cookie otherwise (another header, a cookie, nothing)', () => {
    expect(composed.forRequest(req())).toBe(cookie);
    expect(composed.forRequest(req({ 'x-other': 'x', cookie: 'sid=x' }))).toBe(cookie);
  });

  it('a per-request transport nested in another is resolved to the leaf', () => {
    const outer = new PerRequestTransport(() => false, cookie, composed);
    expect(outer.forRequest(req({ [NAME]: '' }))).toBeInstanceOf(SignedHeaderTransport);
    expect(outer.forRequest(req())).toBe(cookie);
  });

  it('without forRequest it behaves as its second transport', () => {
    const r = req({ cookie: `sid=${encodeURIComponent(signedCookie(ID))}` });
    expect(composed.read(r, [SECRET])).toEqual({ id: ID, oldSecret: false });
  });

  it('the header name is matched case-insensitively (Node lower-cases request headers)', () => {
    const mixed = headerOrCookieTransport('X-Session-Id', cookie, {
      isValidId: undefined,
      cache: false,
    });
    expect(mixed.forRequest(req({ [NAME]: '' }))).toBe(mixed.first);
  });
});

describe('reading the id from the header', () => {
  const secrets = [prepareKey(SECRET)];

  it('accepts the raw and the percent-encoded signed value', () => {
    const value = signedCookie(ID);
    expect(readHeaderSessionId(req({ [NAME]: value }), NAME, secrets)).toEqual({
      id: ID,
      oldSecret: false,
    });
    expect(readHeaderSessionId(req({ [NAME]: encodeURIComponent(value) }), NAME, secrets)).toEqual({
      id: ID,
      oldSecret: false,
    });
  });

  it.each([
    ['missing', {}],
    ['empty', { [NAME]: '' }],
    ['unsigned', { [NAME]: ID }],
    ['without the s: prefix', { [NAME]: signedCookie(ID).slice(2) }],
    ['with another signature', { [NAME]: signedCookie(ID, OTHER_SECRET) }],
    ['tampered', { [NAME]: signedCookie(ID).replace(ID, ID.toUpperCase()) }],
    ['repeated (joined by Node)', { [NAME]: [signedCookie(ID), signedCookie(ID)] }],
  ])('%s: no id', (_, headers) => {
    expect(readHeaderSessionId(req(headers), NAME, secrets)).toBeUndefined();
  });

  it('secret rotation: an older secret verifies and asks for re-signing', () => {
    const found = readHeaderSessionId(req({ [NAME]: signedCookie(ID, OTHER_SECRET) }), NAME, [
      SECRET,
      OTHER_SECRET,
    ]);
    expect(found).toEqual({ id: ID, oldSecret: true });
  });

  it('isValidId rejects before any HMAC work, and only verified values are cached', () => {
    const seen: string[] = [];
    const isValidId = (id: string) => {
      seen.push(id);
      return id.length === 32;
    };
    const cache = new VerifiedCookieCache();
    const bad = signedCookie('short');
    expect(readHeaderSessionId(req({ [NAME]: bad }), NAME, secrets, isValidId, cache)).toBe(
      undefined,
    );
    expect(seen).toEqual(['short']);
    const good = signedCookie(ID);
    readHeaderSessionId(req({ [NAME]: good }), NAME, secrets, isValidId, cache);
    expect(cache.get(good)).toEqual({ id: ID, oldSecret: false });
    expect(cache.get(bad)).toBeUndefined();
  });
});

describe('what the header transport writes', () => {
  const transport = new SignedHeaderTransport(
    { header: 'X-Session-Id', isValidId: undefined, cache: false },
    cookie,
  );

  it('send: the signed id, raw, in the header; never Set-Cookie', () => {
    const r = res();
    transport.send(r, ID, {} as never, SECRET);
    expect(r.getHeader(NAME)).toBe(signedCookie(ID));
    expect(r.getHeader('set-cookie')).toBeUndefined();
  });

  it('clear: the header empty; withdraw: no header', () => {
    const r = res();
    transport.clear(r);
    expect(r.getHeader(NAME)).toBe('');
    transport.withdraw(r);
    expect(r.getHeader(NAME)).toBeUndefined();
  });

  it("scope and Secure follow the cookie's rules", () => {
    expect(transport.inScope(req({}, '/api/x'), { path: '/api' })).toBe(true);
    expect(transport.inScope(req({}, '/other'), { path: '/api' })).toBe(false);
    const secureSession = { cookie: { secure: true } } as never;
    expect(transport.canSend(req(), secureSession)).toBe(false);
    expect(transport.canSend({ ...req(), secure: true } as SessionRequest, secureSession)).toBe(
      true,
    );
  });
});

describe('CORS exposure', () => {
  function respond(
    request: Partial<IncomingMessage>,
    headers: Record<string, string>,
  ): ServerResponse {
    const r = res();
    exposeSessionHeaderToCors(request as IncomingMessage, r, NAME);
    r.writeHead(204, headers);
    return r;
  }
  const preflight = {
    method: 'OPTIONS',
    headers: { 'access-control-request-method': 'POST' },
  };

  it('adds the header to the expose and, on a preflight, to the allow list', () => {
    const r = respond(preflight, {
      'Access-Control-Allow-Origin': 'https://a.example',
      'Access-Control-Allow-Headers': 'content-type',
      'Access-Control-Expose-Headers': 'x-request-id',
    });
    expect(r.getHeader('access-control-allow-headers')).toBe(`content-type, ${NAME}`);
    expect(r.getHeader('access-control-expose-headers')).toBe(`x-request-id, ${NAME}`);
  });

  it('lists it once, whatever the case already there', () => {
    const r = respond(preflight, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'X-Session-Id',
    });
    expect(r.getHeader('access-control-allow-headers')).toBe('X-Session-Id');
  });

  it('an actual request gets the expose list only', () => {
    const r = respond({ method: 'POST', headers: {} }, { 'Access-Control-Allow-Origin': '*' });
    expect(r.getHeader('access-control-expose-headers')).toBe(NAME);
    expect(r.getHeader('access-control-allow-headers')).toBeUndefined();
  });

  it('leaves a response without Access-Control-Allow-Origin alone', () => {
    const r = respond(preflight, { 'Content-Length': '0' });
    expect(r.getHeader('access-control-expose-headers')).toBeUndefined();
    expect(r.getHeader('access-control-allow-headers')).toBeUndefined();
  });
});

describe('the header option', () => {
  it.each(['x-session-id', 'X-Api-Session', 'session'])('accepts %s', (name) => {
    expect(sessionHeaderProblem(name)).toBeUndefined();
  });

  it.each(['', 'x session', 'x:id', 'cookie', 'Set-Cookie', 'host', 'sec-session', 'origin', 3])(
    'refuses %p',
    (name) => {
      expect(sessionHeaderProblem(name)).toBeDefined();
    },
  );

  it('the engine refuses a bad header with a TypeError naming the option', () => {
    expect(() =>
      session({ secret: SECRET, resave: false, saveUninitialized: false, header: 'cookie' }),
    ).toThrow(/header option cannot be 'cookie'/);
  });

  it('the module refuses it at startup with a SessionOptionsError naming "header"', () => {
    let error: unknown;
    try {
      resolveModuleOptions({ secret: OTHER_SECRET, header: 'x session' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SessionOptionsError);
    expect((error as Error).message).toMatch(/"header"/);
  });
});

describe('the drop-in with header', () => {
  const server = () =>
    createServerWith(
      [session({ secret: SECRET, resave: false, saveUninitialized: false, header: NAME }) as never],
      (req: any, response: any) => {
        if (req.url === '/set') req.session.n = 1;
        response.setHeader('Access-Control-Allow-Origin', '*');
        response.end(JSON.stringify({ n: req.session?.n ?? null }));
      },
    );

  it('returns the id in the header to header requests, with CORS exposure', async () => {
    const res1 = await request(server()).get('/set').set(NAME, '').expect(200);
    expect(res1.headers['set-cookie']).toBeUndefined();
    expect(res1.headers['access-control-expose-headers']).toBe(NAME);
    const value = res1.headers[NAME] as string;
    expect(value).toMatch(/^s:/);
  });

  it('and a cookie to cookie requests, never the header', async () => {
    const res1 = await request(server()).get('/set').expect(200);
    expect(res1.headers['set-cookie']).toBeDefined();
    expect(res1.headers[NAME]).toBeUndefined();
  });
});
