import { SessionOptionsError } from './session-options.error';

/**
 * The `csrf` option of `SessionModule.forRoot()`: where {@link CsrfGuard} looks for the token and
 * which methods it leaves alone. Every field is optional; the defaults suit HTML forms and
 * `fetch`/XHR clients alike.
 */
export interface CsrfOptions {
  /** The body field carrying the token (a form field, or a key of a JSON body). Default `'_csrf'`. */
  field?: string;
  /** The request header carrying the token (any case). Default `'x-csrf-token'`. */
  header?: string;
  /**
   * Methods the guard does not check (safe methods, which must not change state). Default
   * `['GET', 'HEAD', 'OPTIONS']`: POST, PUT, PATCH, DELETE and any other method are checked.
   */
  ignoreMethods?: string[];
}

/** {@link CsrfOptions} with defaults applied. @internal */
export interface ResolvedCsrfOptions {
  field: string;
  /** Lower case. */
  header: string;
  /** Upper case. */
  ignoreMethods: ReadonlySet<string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function fail(option: string, message: string): never {
  throw new SessionOptionsError(`csrf.${option}`.replace(/\.$/, ''), message);
}

/**
 * Validates the `csrf` option (a bad value throws a {@link SessionOptionsError} naming it) and
 * applies the defaults. `sessionHeader` is the module's `header` option: the token cannot travel
 * in the header that carries the session id.
 * @internal
 */
export function resolveCsrfOptions(
  value: CsrfOptions | undefined,
  sessionHeader: string | undefined,
): ResolvedCsrfOptions {
  if (
    value !== undefined &&
    (typeof value !== 'object' || value === null || Array.isArray(value))
  ) {
    fail('', 'must be an object ({ field?, header?, ignoreMethods? })');
  }
  const {
    field = '_csrf',
    header = 'x-csrf-token',
    ignoreMethods = ['GET', 'HEAD', 'OPTIONS'],
  } = value ?? {};
  if (typeof field !== 'string' || field === '') fail('field', 'must be a non-empty string');
  if (typeof header !== 'string' || !TOKEN.test(header)) {
    fail('header', 'must be an HTTP header name (a token, e.g. "x-csrf-token")');
  }
  if (sessionHeader !== undefined && header.toLowerCase() === sessionHeader.toLowerCase()) {
    fail('header', `must differ from the session's header option ("${sessionHeader}")`);
  }
  if (
    !Array.isArray(ignoreMethods) ||
    !ignoreMethods.every((m: unknown) => typeof m === 'string' && TOKEN.test(m))
  ) {
    fail('ignoreMethods', 'must be an array of HTTP method names, e.g. ["GET", "HEAD", "OPTIONS"]');
  }
  return {
    field,
    header: header.toLowerCase(),
    ignoreMethods: new Set(ignoreMethods.map((m) => m.toUpperCase())),
  };
}
