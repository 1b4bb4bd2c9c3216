/** The `csrf` module option: defaults, and a bad value refused with a message naming it. */
import { SessionOptionsError } from '../../../lib';
import { resolveCsrfOptions } from '../../../lib/nest/csrf-options';

describe('csrf option', () => {
  it('defaults: _csrf, x-csrf-token, GET/HEAD/OPTIONS unchecked', () => {
    const resolved = resolveCsrfOptions(undefined, undefined);
    expect(resolved.field).toBe('_csrf');
    expect(resolved.header).toBe('x-csrf-token');
    expect([...resolved.ignoreMethods]).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });

  it('normalizes case: the header lower, the methods upper', () => {
    const resolved = resolveCsrfOptions(
      { field: 'token', header: 'X-XSRF-Token', ignoreMethods: ['get', 'Head'] },
      'x-session-id',
    );
    expect(resolved).toEqual({
      field: 'token',
      header: 'x-xsrf-token',
      ignoreMethods: new Set(['GET', 'HEAD']),
    });
  });

  it.each([
    [null, 'csrf', /must be an object/],
    ['yes', 'csrf', /must be an object/],
    [{ field: '' }, 'csrf.field', /non-empty string/],
    [{ field: 3 }, 'csrf.field', /non-empty string/],
    [{ header: 'x csrf' }, 'csrf.header', /HTTP header name/],
    [{ header: 'X-Session-Id' }, 'csrf.header', /must differ from the session's header/],
    [{ ignoreMethods: 'GET' }, 'csrf.ignoreMethods', /array of HTTP method names/],
    [{ ignoreMethods: ['GET', ''] }, 'csrf.ignoreMethods', /array of HTTP method names/],
  ])('refuses %j (%s)', (value, option, message) => {
    let error: unknown;
    try {
      resolveCsrfOptions(value as never, 'x-session-id');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SessionOptionsError);
    expect((error as SessionOptionsError).option).toBe(option);
    expect((error as Error).message).toMatch(message);
  });
});
