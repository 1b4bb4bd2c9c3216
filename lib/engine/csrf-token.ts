/**
 * CSRF tokens of the synchronizer token pattern (OWASP), bound to the session: a random secret
 * kept in the session data, and tokens derived from it, a new one for every response that asks
 * (so that no two pages carry the same bytes: BREACH), checked in constant time.
 *
 * A token is `base64url(salt ‖ HMAC-SHA256(secret, label ‖ sessionId ‖ salt))`: 16 random bytes
 * of salt and the 32-byte MAC, 64 characters. The secret itself never leaves the server, and a
 * token only verifies for the session id it was made for: after `regenerate()` (a new id, and the
 * secret dropped with the old data) every older token is refused, even where a library copies
 * the whole old session over (passport's `keepSessionInfo`).
 *
 * Framework-free: the Nest guard and decorators (`lib/nest/csrf*.ts`) build on it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { requestState } from './request-state';
import type { RequestSession, SessionRequest } from './session';
import { CSRF_SECRET_KEY } from './session-data';

export { CSRF_SECRET_KEY };

/** Bytes of a new secret (256 bits). */
const SECRET_BYTES = 32;
/** Shortest stored secret accepted (csurf's secrets are 18 bytes, 24 characters). */
const MIN_SECRET_LENGTH = 16;
const SALT_BYTES = 16;
const MAC_BYTES = 32;
/** Length of a token: base64url of salt + MAC, without padding. */
export const CSRF_TOKEN_LENGTH = Math.ceil(((SALT_BYTES + MAC_BYTES) * 4) / 3);
const TOKEN_SHAPE = new RegExp(`^[A-Za-z0-9_-]{${CSRF_TOKEN_LENGTH}}$`);
/** Separates this use of HMAC from any other the application may make of the same bytes. */
const LABEL = 'nest-session csrf v1\0';

/** A new random secret (32 bytes, base64url). */
export function createCsrfSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** True when `value` can serve as a session's CSRF secret. */
export function isCsrfSecret(value: unknown): value is string {
  return typeof value === 'string' && value.length >= MIN_SECRET_LENGTH;
}

function mac(secret: string, sessionId: string, salt: Buffer): Buffer {
  return createHmac('sha256', secret)
    .update(LABEL)
    .update(sessionId)
    .update('\0')
    .update(salt)
    .digest();
}

/** A new token for `secret` and the session `sessionId` (a fresh salt each call). */
export function createCsrfToken(secret: string, sessionId: string): string {
  const salt = randomBytes(SALT_BYTES);
  return Buffer.concat([salt, mac(secret, sessionId, salt)]).toString('base64url');
}

/**
 * True when `token` was made by {@link createCsrfToken} for `secret` and `sessionId`. Anything
 * else (not a string, the wrong length or alphabet, another session's token, a tampered one) is
 * false, never an exception; the MAC is compared in constant time.
 */
export function verifyCsrfToken(secret: string, sessionId: string, token: unknown): boolean {
  if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return false;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length !== SALT_BYTES + MAC_BYTES) return false;
  const expected = mac(secret, sessionId, bytes.subarray(0, SALT_BYTES));
  return timingSafeEqual(expected, bytes.subarray(SALT_BYTES));
}

function noSession(): never {
  throw new Error(
    'nest-session: a CSRF token needs a session, and this request has none: install the ' +
      'session middleware (SessionModule) on this route; after session.destroy(), regenerate() ' +
      'a session first',
  );
}

/**
 * The session's secret, without creating anything: `undefined` when the request has no session
 * yet (a lazy one not materialized), none at all, or a session without a (usable) secret.
 */
export function csrfSecretOf(req: SessionRequest): string | undefined {
  if (requestState<{ lazy?: boolean }>(req)?.lazy) return undefined;
  const secret = dataOf(req.session)?.[CSRF_SECRET_KEY];
  return isCsrfSecret(secret) ? secret : undefined;
}

function dataOf(session: RequestSession | null | undefined): Record<string, unknown> | undefined {
  return session ? (session as unknown as Record<string, unknown>) : undefined;
}

/**
 * A new token for the request's session, creating the secret (and so the session, with
 * `saveUninitialized: false`) when there is none yet. Throws when the request has no session
 * at all (the middleware did not run, or it was destroyed).
 */
export function issueCsrfToken(req: SessionRequest): string {
  const session = req.session;
  const data = dataOf(session);
  if (!session || !data) return noSession();
  let secret = data[CSRF_SECRET_KEY];
  if (!isCsrfSecret(secret)) {
    secret = createCsrfSecret();
    data[CSRF_SECRET_KEY] = secret;
  }
  return createCsrfToken(secret as string, session.id);
}

/** True when `token` verifies against the request's session (false without one: nothing created). */
export function checkCsrfToken(req: SessionRequest, token: unknown): boolean {
  const secret = csrfSecretOf(req);
  if (secret === undefined || !req.session) return false;
  return verifyCsrfToken(secret, req.session.id, token);
}
