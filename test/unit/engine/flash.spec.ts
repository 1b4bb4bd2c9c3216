/**
 * `req.flash` without HTTP: connect-flash's contract on a plain request object, what reading
 * tells the engine, and the drop-in installing it.
 */
process.env.NO_DEPRECATION = 'express-session';
import request from 'supertest';
import session = require('../../../lib/express');
import { addFlash, flash, installFlash, takeFlash } from '../../../lib/engine/flash';
import { setRequestState } from '../../../lib/engine/request-state';
import type { SessionRequest } from '../../../lib/engine/session';
import { SECRET, createServerWith } from '../../support/express-helpers';

function fakeRequest(data: Record<string, unknown> | undefined, state: object = {}) {
  const req = { headers: {}, session: data } as unknown as SessionRequest;
  setRequestState(req, state);
  installFlash(req);
  return req;
}

describe('req.flash', () => {
  it('appends, counts, formats and spreads arrays', () => {
    const req = fakeRequest({});
    expect(req.flash!('info', 'a')).toBe(1);
    expect(req.flash!('info', ['b', 'c'])).toBe(3);
    expect(req.flash!('info', '%d%% of %s', 50, 'it')).toBe(4);
    expect(req.flash!('info')).toEqual(['a', 'b', 'c', '50% of it']);
    expect(req.flash!('info')).toEqual([]);
  });

  it('keeps any JSON value as a message', () => {
    const req = fakeRequest({});
    req.flash!('form', { field: 'email', text: 'taken' });
    expect(req.flash!()).toEqual({ form: [{ field: 'email', text: 'taken' }] });
  });

  it("stores connect-flash's shape, and reads what connect-flash stored", () => {
    const data: Record<string, unknown> = { flash: { error: ['old'] } };
    const req = fakeRequest(data);
    req.flash!('info', 'new');
    expect(data.flash).toEqual({ error: ['old'], info: ['new'] });
    expect(req.flash!('error')).toEqual(['old']);
    expect(data.flash).toEqual({ info: ['new'] });
  });

  it('reading the last messages removes the key and tells the engine, once per read', () => {
    const drained = jest.fn();
    const data: Record<string, unknown> = { flash: { a: [1], b: [2] }, other: true };
    const req = fakeRequest(data, { onFlashDrained: drained });
    req.flash!('a');
    expect(drained).not.toHaveBeenCalled();
    req.flash!('b');
    expect(drained).toHaveBeenCalledTimes(1);
    expect(data).toEqual({ other: true });
    req.flash!('b');
    expect(drained).toHaveBeenCalledTimes(1); // nothing was there to read
  });

  it('reading on a session not created yet creates none', () => {
    const req = {
      headers: {},
      get session(): never {
        throw new Error('materialized');
      },
    } as unknown as SessionRequest;
    setRequestState(req, { lazy: true });
    expect(takeFlash(req, 'info')).toEqual([]);
    expect(takeFlash(req)).toEqual({});
  });

  it('a value that is not an object of arrays reads as nothing', () => {
    for (const value of ['x', 3, ['a'], null]) {
      const req = fakeRequest({ flash: value });
      expect(req.flash!('a')).toEqual([]);
      expect(addFlash(req, 'a', 'm')).toBe(1);
    }
  });

  it('throws a clear error without a session, and when called detached', () => {
    const req = fakeRequest(undefined);
    expect(() => req.flash!('info', 'x')).toThrow(/req\.flash\(\) needs a session/);
    expect(() => req.flash!('info')).toThrow(/needs a session/);
    expect(() => (flash as (t: string) => unknown)('info')).toThrow(/called on the request/);
  });

  it("leaves a request's own req.flash alone", () => {
    const own = () => 0;
    const req = { flash: own } as unknown as SessionRequest;
    installFlash(req);
    expect(req.flash).toBe(own);
  });
});

describe('the drop-in installs req.flash', () => {
  it('a message flashed on one request is read once on the next', async () => {
    const server = createServerWith(
      [session({ secret: SECRET, resave: false, saveUninitialized: false }) as never],
      (req: any, res: any) => {
        if (req.url === '/flash') req.flash('info', 'hello');
        res.end(JSON.stringify(req.url === '/read' ? req.flash('info') : null));
      },
    );
    const first = await request(server).get('/flash').expect(200);
    const cookie = String(first.headers['set-cookie']).split(';')[0] as string;
    const read = async () =>
      JSON.parse((await request(server).get('/read').set('Cookie', cookie)).text);
    expect(await read()).toEqual(['hello']);
    expect(await read()).toEqual([]);
  });
});
