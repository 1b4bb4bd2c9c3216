import type { ServerResponse } from 'node:http';
import { parse } from 'cookie';
import { BoundedMap } from '../bounded-map';
import { deprecate } from '../deprecate';
import type { SessionRequest } from '../session';
import { type SecretKey, signValue, unsignWithAny } from '../signature';
import type { ReceivedSessionId } from './transport';

const SIGNED_PREFIX = 's:';

/** A verified session id, and whether it was signed with an older secret (to be re-signed). */
export type CookieSessionId = ReceivedSessionId;

/** Says whether a string could be a session id we issued (checked before any HMAC work). */
export type SessionIdValidator = (id: string) => boolean;

/**
 * Cookie values already verified, mapped to what they verified to: a returning browser costs no
 * HMAC. Only values that passed verification enter it (so it cannot be used to plant an id), and
 * it is bounded (oldest entries dropped first).
 */
export class VerifiedCookieCache extends BoundedMap<string, CookieSessionId> {
  constructor(max = 10_000) {
    super(max);
  }
}

/** The cookie library's value decoding: percent-decoded, or as it is when that fails. */
function decodeValue(raw: string): string {
  if (raw.indexOf('%') === -1) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Leaves cookie values as they are in the header (decoded later, only when not cached). */
const RAW_VALUES = { decode: (value: string) => value };

/** Verifies an already decoded cookie value (cookie-parser's, a duplicate), without the cache. */
function unsignPrefixed(
  value: unknown,
  secrets: readonly SecretKey[],
  isValidId: SessionIdValidator | undefined,
): CookieSessionId | undefined {
  if (typeof value !== 'string' || !value.startsWith(SIGNED_PREFIX)) return undefined;
  return verifySigned(value, secrets, isValidId, undefined, value);
}

/**
 * Verifies a decoded `s:` value, through the cache when there is one (`cacheKey`: the value as
 * it appeared in the header).
 */
function verifySigned(
  value: string,
  secrets: readonly SecretKey[],
  isValidId: SessionIdValidator | undefined,
  cache: VerifiedCookieCache | undefined,
  cacheKey: string,
): CookieSessionId | undefined {
  const signed = value.slice(SIGNED_PREFIX.length);
  if (isValidId) {
    const dot = signed.lastIndexOf('.');
    if (dot < 0 || !isValidId(signed.slice(0, dot))) return undefined;
  }
  const result = unsignWithAny(signed, secrets);
  if (!result || !result.value) return undefined;
  const verified = { id: result.value, oldSecret: result.secretIndex > 0 };
  cache?.set(cacheKey, verified);
  return verified;
}

/**
 * A signed value as it stands on the wire (`s:<id>.<signature>`, raw or percent-encoded),
 * verified exactly as a cookie value is: the `s:` prefix, `isValidId` before any HMAC work, every
 * secret in turn with a timing-safe comparison, and the cache (a value seen before is answered as
 * it stands, with no decoding and no HMAC). The cookie and the header transports share it.
 */
export function verifySignedValue(
  raw: string,
  secrets: readonly SecretKey[],
  isValidId: SessionIdValidator | undefined,
  cache: VerifiedCookieCache | undefined,
): CookieSessionId | undefined {
  const cached = cache?.get(raw);
  if (cached) return cached;
  const value = decodeValue(raw);
  if (!value.startsWith(SIGNED_PREFIX)) return undefined;
  return verifySigned(value, secrets, isValidId, cache, raw);
}

/** Our cookie's value from the `Cookie` header, verified (see {@link verifySignedValue}). */
function fromHeader(
  header: string,
  name: string,
  secrets: readonly SecretKey[],
  isValidId: SessionIdValidator | undefined,
  cache: VerifiedCookieCache | undefined,
): CookieSessionId | undefined {
  const raw = parse(header, RAW_VALUES)[name];
  return raw === undefined ? undefined : verifySignedValue(raw, secrets, isValidId, cache);
}

/**
 * The session id carried by the request's cookie, verified against the secrets, or `undefined`.
 * Reads the raw `Cookie` header first; falls back to cookie-parser's `req.signedCookies` and
 * `req.cookies` as express-session does. Unsigned values are never accepted.
 */
export function readSessionId(
  req: SessionRequest,
  name: string,
  secrets: readonly SecretKey[],
  isValidId?: SessionIdValidator,
  cache?: VerifiedCookieCache,
): CookieSessionId | undefined {
  let found: CookieSessionId | undefined;
  const header = req.headers.cookie;
  // Cheap pre-check: most requests without our cookie skip the parse entirely.
  if (header && header.includes(name)) {
    found =
      fromHeader(header, name, secrets, isValidId, cache) ??
      fromDuplicates(header, name, secrets, isValidId);
  }

  if (!found && req.signedCookies) {
    const value = req.signedCookies[name];
    if (typeof value === 'string' && value) {
      deprecate('cookie should be available in req.headers.cookie');
      found = { id: value, oldSecret: false };
    }
  }
  if (!found && req.cookies) {
    found = unsignPrefixed(req.cookies[name], secrets, isValidId);
    if (found) deprecate('cookie should be available in req.headers.cookie');
  }
  return found;
}

/**
 * When the header carries our cookie more than once (another path or domain, or a planted
 * copy) and the first copy does not verify, the first copy that does wins: a bad first copy
 * must not hide a valid one.
 */
function fromDuplicates(
  header: string,
  name: string,
  secrets: readonly SecretKey[],
  isValidId: SessionIdValidator | undefined,
): CookieSessionId | undefined {
  const marker = name + '=';
  if (header.indexOf(marker) === header.lastIndexOf(marker)) return undefined;
  for (const pair of header.split(';')) {
    const found = unsignPrefixed(parse(pair)[name], secrets, isValidId);
    if (found) return found;
  }
  return undefined;
}

/** The cookie value for an id: `s:` + the signed id. */
export function signedCookieValue(id: string, secret: SecretKey): string {
  return SIGNED_PREFIX + signValue(id, secret);
}

/** Adds a `Set-Cookie` line after any already set on the response. */
export function appendSetCookie(res: ServerResponse, line: string): void {
  const previous = res.getHeader('Set-Cookie');
  const lines =
    previous === undefined
      ? line
      : Array.isArray(previous)
        ? [...previous, line]
        : [String(previous), line];
  res.setHeader('Set-Cookie', lines);
}
