import { randomFillSync } from 'node:crypto';

/** Number of random bytes in a default session id (192 bits, as express-session / uid-safe). */
export const SESSION_ID_BYTES = 24;

// Random bytes are drawn from the CSPRNG in batches (as Node's randomUUID does): one call fills
// ids for 256 sessions, instead of one call per session. Each byte is used once.
const POOL_IDS = 256;
const pool = Buffer.alloc(SESSION_ID_BYTES * POOL_IDS);
let offset = pool.length;

/**
 * The default `genid`: 24 bytes from the CSPRNG, base64url without padding (32 characters of
 * `[A-Za-z0-9_-]`), byte-for-byte the format express-session's uid-safe produces.
 */
export function generateSessionId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + SESSION_ID_BYTES);
  // Never reuse these bytes, even if something later read the pool.
  pool.fill(0, offset, offset + SESSION_ID_BYTES);
  offset += SESSION_ID_BYTES;
  return id;
}

const DEFAULT_ID = /^[A-Za-z0-9_-]{32}$/;

/** True for strings of the default `genid`'s shape: exactly 32 characters of `[A-Za-z0-9_-]`. */
export function isDefaultSessionId(id: string): boolean {
  return id.length === 32 && DEFAULT_ID.test(id);
}
