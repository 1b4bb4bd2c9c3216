import type { SessionRecord } from '../../engine/session-data';
import { storedRecordOf } from '../../engine/session-origin';
import { messageOf } from './errors';
import type { RedisStoreSerializer } from './options';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a value is a promise (or any thenable). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The raw value a record object was parsed from (for the compare-and-set touch). */
const RAW_VALUE = Symbol('nest-session.redisRawValue');

type ParsedRecord = SessionRecord & { [RAW_VALUE]?: string };

/** A parsed value as a session record (remembering its raw value), or why it is unusable. */
function checkRecord(value: unknown, raw: string): SessionRecord | string {
  if (!isObject(value)) return 'is not a session object';
  if (!isObject(value.cookie)) return 'has no cookie object';
  // Non-enumerable: invisible to deep equality, spreads and Object.assign.
  Object.defineProperty(value, RAW_VALUE, { value: raw, configurable: true });
  return value as SessionRecord;
}

/**
 * Parses a stored value: the session (remembering the raw value it came from), or a string
 * saying why it is unusable. Synchronous with a synchronous serializer (the default `JSON`); the
 * promise of an asynchronous one never rejects (a failure resolves to the reason).
 */
export function decodeRecord(
  serializer: RedisStoreSerializer,
  raw: string,
): SessionRecord | string | Promise<SessionRecord | string> {
  let value: unknown;
  try {
    value = serializer.parse(raw);
  } catch (err) {
    return `is not a valid serialized session (${messageOf(err)})`;
  }
  if (isThenable(value)) {
    return Promise.resolve(value).then(
      (v) => checkRecord(v, raw),
      (err: unknown) => `is not a valid serialized session (${messageOf(err)})`,
    );
  }
  return checkRecord(value, raw);
}

/** The raw value the session was read as in this request (`undefined`: not read from Redis). */
export function rawValueOf(session: SessionRecord): string | undefined {
  return (storedRecordOf(session) as ParsedRecord | undefined)?.[RAW_VALUE];
}

/** Epoch milliseconds of a cookie `expires` (Date, ISO string or number), NaN when absent/invalid. */
function expiryOf(session: SessionRecord): number {
  const expires = (session.cookie as { expires?: unknown } | undefined)?.expires;
  if (expires instanceof Date) return expires.getTime();
  if (typeof expires === 'string' || typeof expires === 'number')
    return new Date(expires).getTime();
  return NaN;
}

/**
 * A session's TTL in whole seconds: `ttl(session)` when `ttl` is a function, else until the
 * cookie's expiry, else `ttl`; `undefined` with `disableTTL`.
 */
export function ttlOf(
  session: SessionRecord,
  ttl: number | ((session: SessionRecord) => number),
  disableTTL: boolean,
): number | undefined {
  if (disableTTL) return undefined;
  if (typeof ttl === 'function') {
    const seconds = ttl(session);
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
      throw new TypeError('RedisStore option ttl returned a value that is not a number');
    }
    return Math.ceil(seconds);
  }
  const expiresAt = expiryOf(session);
  if (Number.isNaN(expiresAt)) return Math.ceil(ttl);
  return Math.ceil((expiresAt - Date.now()) / 1000);
}
