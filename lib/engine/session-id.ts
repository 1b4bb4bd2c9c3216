import { randomBytes } from 'node:crypto';

/** Number of random bytes in a default session id (192 bits, as express-session / uid-safe). */
export const SESSION_ID_BYTES = 24;

/**
 * The default `genid`: 24 bytes from the CSPRNG, base64url without padding (32 characters of
 * `[A-Za-z0-9_-]`), byte-for-byte the format express-session's uid-safe produces.
 */
export function generateSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString('base64url');
}

const DEFAULT_ID = /^[A-Za-z0-9_-]{32}$/;

/** True for strings of the default `genid`'s shape: exactly 32 characters of `[A-Za-z0-9_-]`. */
export function isDefaultSessionId(id: string): boolean {
  return id.length === 32 && DEFAULT_ID.test(id);
}
