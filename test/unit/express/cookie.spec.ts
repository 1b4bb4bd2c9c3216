process.env.NO_DEPRECATION = 'express-session';

import session = require('../../../lib/express');

const Cookie: any = session.Cookie;

describe('Cookie', () => {
  describe('defaults', () => {
    it('has path /, httpOnly, no expiry', () => {
      const c = new Cookie();
      expect(c.path).toBe('/');
      expect(c.httpOnly).toBe(true);
      expect(c.expires).toBeNull();
      expect(c.maxAge).toBeNull();
      expect(c.originalMaxAge).toBeNull();
    });

    it('null and undefined options give the defaults', () => {
      for (const o of [null, undefined]) {
        const c = new Cookie(o);
        expect(c.path).toBe('/');
        expect(c.httpOnly).toBe(true);
        expect(c.expires).toBeNull();
      }
    });

    it('has no secure, domain or sameSite unless given', () => {
      const c = new Cookie();
      expect(c.secure).toBeUndefined();
      expect(c.domain).toBeUndefined();
      expect(c.sameSite).toBeUndefined();
    });
  });

  describe('options validation', () => {
    it.each([42, 'str', true, () => {}])('rejects a non-object options value %p', (o) => {
      expect(() => new Cookie(o)).toThrow(TypeError);
      expect(() => new Cookie(o)).toThrow('argument options must be a object');
    });

    it('accepts an array (index keys are copied)', () => {
      const c = new Cookie(['x']);
      expect(c[0]).toBe('x');
      expect(c.path).toBe('/');
    });

    it('copies known options', () => {
      const c = new Cookie({
        path: '/foo',
        httpOnly: false,
        secure: true,
        domain: 'example.com',
        sameSite: 'strict',
        priority: 'high',
        partitioned: true,
      });
      expect(c.path).toBe('/foo');
      expect(c.httpOnly).toBe(false);
      expect(c.secure).toBe(true);
      expect(c.domain).toBe('example.com');
      expect(c.sameSite).toBe('strict');
      expect(c.priority).toBe('high');
      expect(c.partitioned).toBe(true);
    });

    it('copies unknown keys onto the instance but never persists them', () => {
      const c = new Cookie({ foo: 'bar', signed: true });
      expect(c.foo).toBe('bar');
      expect(c.signed).toBe(true);
      expect(Object.keys(c.toJSON())).not.toContain('foo');
      expect(c.serialize('a', 'b')).toBe('a=b; Path=/; HttpOnly');
    });

    it('ignores a `data` key in the options', () => {
      const c = new Cookie({ data: { path: '/x' } });
      expect(c.path).toBe('/');
    });
  });

  describe('maxAge', () => {
    it('sets expires relative to now and keeps originalMaxAge exact', () => {
      const before = Date.now();
      const c = new Cookie({ maxAge: 2000 });
      const after = Date.now();
      expect(c.expires).toBeInstanceOf(Date);
      expect(c.expires.getTime()).toBeGreaterThanOrEqual(before + 2000);
      expect(c.expires.getTime()).toBeLessThanOrEqual(after + 2000);
      expect(c.originalMaxAge).toBe(2000);
    });

    it('getter returns the milliseconds left', () => {
      const c = new Cookie({ maxAge: 60000 });
      expect(c.maxAge).toBeGreaterThan(59000);
      expect(c.maxAge).toBeLessThanOrEqual(60000);
    });

    it('getter can go negative once expired', () => {
      const c = new Cookie();
      c.expires = new Date(Date.now() - 5000);
      expect(c.maxAge).toBeLessThan(-4000);
    });

    it.each([['42'], [true], [() => 1], [{}]])('rejects %p', (v) => {
      expect(() => new Cookie({ maxAge: v })).toThrow(TypeError);
      const c = new Cookie();
      expect(() => {
        c.maxAge = v;
      }).toThrow('maxAge must be a number or Date');
    });

    it('accepts 0 (expires now)', () => {
      const c = new Cookie({ maxAge: 0 });
      expect(c.expires).toBeInstanceOf(Date);
      expect(Math.abs(c.expires.getTime() - Date.now())).toBeLessThan(50);
    });

    it('accepts NaN, which gives an invalid date that fails to serialize', () => {
      const c = new Cookie({ maxAge: NaN });
      expect(c.expires).toBeInstanceOf(Date);
      expect(Number.isNaN(c.expires.getTime())).toBe(true);
      expect(() => c.serialize('a', 'b')).toThrow('option expires is invalid');
    });

    it('null clears the expiry', () => {
      const c = new Cookie({ maxAge: 1000 });
      c.maxAge = null;
      expect(c.expires).toBeNull();
      expect(c.maxAge).toBeNull();
    });

    it('false is carried through to expires', () => {
      const c = new Cookie();
      c.maxAge = false;
      expect(c.expires).toBe(false);
    });

    it('accepts a Date (deprecated) and uses it as expiry', () => {
      const d = new Date(Date.now() + 30000);
      const c = new Cookie();
      c.maxAge = d;
      expect(c.expires).toBe(d);
    });

    it('setting maxAge later updates originalMaxAge', () => {
      const c = new Cookie({ maxAge: 1000 });
      c.maxAge = 5000;
      expect(c.originalMaxAge).toBe(5000);
      expect(c.maxAge).toBeGreaterThan(4900);
    });
  });

  describe('expires', () => {
    it('a Date makes originalMaxAge the remaining milliseconds', () => {
      const c = new Cookie();
      c.expires = new Date(Date.now() + 10000);
      expect(c.originalMaxAge).toBeGreaterThan(9900);
      expect(c.originalMaxAge).toBeLessThanOrEqual(10000);
    });

    it('null gives maxAge null', () => {
      const c = new Cookie({ expires: null });
      expect(c.expires).toBeNull();
      expect(c.maxAge).toBeNull();
      expect(c.originalMaxAge).toBeNull();
    });

    it('false serializes as expires false and emits no Expires attribute', () => {
      const c = new Cookie({ expires: false });
      expect(c.expires).toBe(false);
      expect(JSON.parse(JSON.stringify(c))).toEqual({
        originalMaxAge: false,
        expires: false,
        httpOnly: true,
        path: '/',
      });
      expect(c.serialize('a', 'b')).toBe('a=b; Path=/; HttpOnly');
    });

    it('when both expires and maxAge are given, the later key wins', () => {
      const d = new Date(Date.now() + 100000);
      const a = new Cookie({ maxAge: 1000, expires: d });
      expect(a.expires).toBe(d);
      const b = new Cookie({ expires: d, maxAge: 1000 });
      expect(b.expires.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(b.originalMaxAge).toBe(1000);
    });

    it('an originalMaxAge given after expires is kept', () => {
      const d = new Cookie({ expires: null, originalMaxAge: 3000 });
      expect(d.originalMaxAge).toBe(3000);
    });

    it('an expires given after originalMaxAge recomputes it through the setter', () => {
      const c = new Cookie({ originalMaxAge: 3000, expires: null });
      expect(c.originalMaxAge).toBeNull();
    });
  });

  describe('data / toJSON', () => {
    it('lists the persisted keys in order', () => {
      const c = new Cookie();
      expect(Object.keys(c.data)).toEqual([
        'originalMaxAge',
        'partitioned',
        'priority',
        'expires',
        'secure',
        'httpOnly',
        'domain',
        'path',
        'sameSite',
      ]);
    });

    it('returns a new object each time', () => {
      const c = new Cookie();
      expect(c.data).not.toBe(c.data);
      expect(c.data).toEqual(c.data);
    });

    it('toJSON of a default cookie', () => {
      expect(JSON.stringify(new Cookie())).toBe(
        '{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"}',
      );
    });

    it('toJSON with maxAge', () => {
      const c = new Cookie({ maxAge: 1000 });
      const json = JSON.stringify(c);
      expect(json).toBe(
        '{"originalMaxAge":1000,"expires":"' +
          c.expires.toISOString() +
          '","httpOnly":true,"path":"/"}',
      );
    });

    it('toJSON includes every known attribute in order', () => {
      const c = new Cookie({
        sameSite: 'lax',
        path: '/p',
        domain: 'example.com',
        httpOnly: false,
        secure: true,
        priority: 'low',
        partitioned: true,
      });
      expect(Object.keys(JSON.parse(JSON.stringify(c)))).toEqual([
        'originalMaxAge',
        'partitioned',
        'priority',
        'expires',
        'secure',
        'httpOnly',
        'domain',
        'path',
        'sameSite',
      ]);
      expect(c.toJSON()).toEqual(c.data);
    });
  });

  describe('serialize', () => {
    it('serializes a default cookie', () => {
      expect(new Cookie().serialize('previous', 'cookieValue')).toBe(
        'previous=cookieValue; Path=/; HttpOnly',
      );
    });

    it('URL-encodes the value', () => {
      expect(new Cookie().serialize('n', 's:a+b/c')).toBe('n=s%3Aa%2Bb%2Fc; Path=/; HttpOnly');
    });

    it('emits the attributes in cookie 0.7 order', () => {
      const c = new Cookie({
        sameSite: 'lax',
        priority: 'low',
        partitioned: true,
        secure: true,
        domain: 'example.com',
        maxAge: 5000,
      });
      const s = c.serialize('connect.sid', 'v');
      expect(s).toBe(
        'connect.sid=v; Domain=example.com; Path=/; Expires=' +
          c.expires.toUTCString() +
          '; HttpOnly; Secure; Partitioned; Priority=Low; SameSite=Lax',
      );
    });

    it('never emits Max-Age', () => {
      expect(new Cookie({ maxAge: 5000 }).serialize('a', 'b')).not.toMatch(/Max-Age/i);
    });

    it.each([
      [true, 'Strict'],
      ['strict', 'Strict'],
      ['LAX', 'Lax'],
      ['none', 'None'],
    ])('sameSite %p serializes as %s', (v, out) => {
      expect(new Cookie({ sameSite: v }).serialize('a', 'b')).toBe(
        'a=b; Path=/; HttpOnly; SameSite=' + out,
      );
    });

    it('omits false boolean attributes', () => {
      expect(
        new Cookie({ httpOnly: false, secure: false, sameSite: false }).serialize('a', 'b'),
      ).toBe('a=b; Path=/');
    });

    it('throws for invalid attributes', () => {
      expect(() => new Cookie({ sameSite: 'bogus' }).serialize('a', 'b')).toThrow(
        'option sameSite is invalid',
      );
      expect(() => new Cookie({ priority: 'urgent' }).serialize('a', 'b')).toThrow(
        'option priority is invalid',
      );
      expect(() => new Cookie({ domain: 'bad domain' }).serialize('a', 'b')).toThrow(
        'option domain is invalid',
      );
      expect(() => new Cookie().serialize('bad name', 'b')).toThrow('argument name is invalid');
    });
  });
});
