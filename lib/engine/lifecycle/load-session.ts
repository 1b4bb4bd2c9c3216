import { fingerprintOfRecord } from '../record-json';
import { isSecureRequest } from '../secure-request';
import { type RequestSession, inflateSession } from '../session';
import type { SessionRecord } from '../session-data';
import { snapshotKeys } from '../session-patch';
import { sessionUser } from '../session-user';
import { StoreTimeoutError, callStore } from '../store/store-call';
import type { ReadRefresh } from '../store/store-like';
import { touchMargin } from './decisions';
import type { NextFunction, RequestContext } from './request-context';

function isTimeout(err: unknown): boolean {
  return err instanceof StoreTimeoutError || (err as { code?: unknown })?.code === 'ESTORETIMEOUT';
}

function isRecord(value: unknown): value is SessionRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The last moment a `Date` can hold (ECMAScript: ±8.64e15 ms from the epoch). */
const LAST_DATE = 8.64e15;

const SAME_SITE = new Set<unknown>([true, false, 'lax', 'strict', 'none', 'Lax', 'Strict', 'None']);

function isOptional(value: unknown, type: 'string' | 'boolean'): boolean {
  return value === undefined || value === null || typeof value === type;
}

/**
 * A stored cookie the engine can use: a lifetime that is none (a browser-session cookie) or a
 * positive number of milliseconds that still gives a valid date, an expiry in the future, and
 * attributes of the right types. Anything else would fail on every request of that session
 * (`maxAge must be a number`, a `Set-Cookie` that cannot be serialized): a 500 until it expires.
 */
function isUsableCookie(cookie: Record<string, unknown>, now: number): boolean {
  const lifetime = cookie.originalMaxAge;
  if (lifetime !== null && lifetime !== undefined) {
    if (typeof lifetime !== 'number' || !(lifetime > 0) || now + lifetime > LAST_DATE) return false;
  }
  const expires = cookie.expires;
  if (expires !== null && expires !== undefined && expires !== false) {
    if (typeof expires !== 'string' && typeof expires !== 'number') return false;
    const at = new Date(expires).getTime();
    if (Number.isNaN(at) || at <= now) return false;
  }
  return (
    isOptional(cookie.path, 'string') &&
    isOptional(cookie.domain, 'string') &&
    isOptional(cookie.httpOnly, 'boolean') &&
    isOptional(cookie.secure, 'boolean') &&
    isOptional(cookie.partitioned, 'boolean') &&
    isOptional(cookie.priority, 'string') &&
    (cookie.sameSite === undefined || cookie.sameSite === null || SAME_SITE.has(cookie.sameSite))
  );
}

/** A stored record the engine can turn into a session (used with `discardInvalidRecords`). */
function isUsableRecord(value: unknown): value is SessionRecord {
  return isRecord(value) && isRecord(value.cookie) && isUsableCookie(value.cookie, Date.now());
}

/**
 * Reads the session `sid` the client sent and puts it on the request (or a new one when the
 * store has none, or an unusable one), then calls the request's `next`. A failed read is retried
 * (`readRetries`, with backoff) and else passed to `next` with `loadFailed` set.
 */
export function loadSession<Res>(context: RequestContext<Res>, sid: string, attempt = 0): void {
  const o = context.engine.options;
  const next = context.next as NextFunction;
  const refresh = readRefreshFor(context);
  callStore<SessionRecord | null | undefined>(
    o.store,
    refresh ? 'getAndTouch' : 'get',
    refresh ? [sid, refresh] : [sid],
    o.storeTimeout,
    (err, data) => {
      context.refreshedAtLoad = refresh?.refreshed === true;
      if (err && (err as { code?: unknown }).code !== 'ENOENT') {
        if (attempt < o.readRetries && !isTimeout(err)) {
          // Reads are safe to repeat: a short backoff rides out a dropped connection.
          setTimeout(() => loadSession(context, sid, attempt + 1), 25 * 2 ** attempt);
          return;
        }
        context.loadFailed = true;
        context.onStoreError('get', sid, err);
        return next(err);
      }
      try {
        // A falsy record that is not "nothing" (0, false, '') is bad data, not a miss.
        if (err || data === null || data === undefined) context.generateSession();
        else if (!data && !o.discardInvalidRecords) context.generateSession();
        else inflateOrDiscard(context, sid, data);
      } catch (e) {
        return next(e);
      }
      next();
    },
  );
}

/**
 * The refresh to ask of the read (`getAndTouch`), when the store offers it and the request's
 * touch would do the same: a store with `touch`, no `resave` (which rewrites the session anyway)
 * and no `rolling` (whose cookie goes back on every response: the touch at the end is what tells
 * that the session still exists, so that a request ending after a logout sends no live cookie).
 * Otherwise `undefined`: a plain `get`.
 */
function readRefreshFor<Res>(context: RequestContext<Res>): ReadRefresh | undefined {
  const engine = context.engine;
  const o = engine.options;
  if (
    o.resave ||
    o.rolling ||
    !engine.storeImplementsTouch ||
    typeof o.store.getAndTouch !== 'function'
  ) {
    return undefined;
  }
  const maxAge = context.cookieOptions.maxAge ?? null;
  if (maxAge !== null && !(typeof maxAge === 'number' && maxAge > 0)) return undefined;
  return { maxAge, margin: touchMargin(o.touchAfter, maxAge, true) };
}

/** Inflates a stored record, or replaces it by a fresh session when it is unusable. */
function inflateOrDiscard<Res>(
  context: RequestContext<Res>,
  sid: string,
  data: SessionRecord,
): void {
  const o = context.engine.options;
  let usable = !o.discardInvalidRecords || isUsableRecord(data);
  if (usable && o.absoluteTimeout) {
    const createdAt = (data.cookie as { createdAt?: unknown }).createdAt;
    usable = typeof createdAt !== 'number' || Date.now() - createdAt < o.absoluteTimeout;
  }
  let hash: string | undefined;
  if (usable) {
    hash = fingerprintOfRecord(data);
    usable = !o.maxSize || Buffer.byteLength(hash) <= o.maxSize;
  }
  if (usable) return inflate(context, data, hash as string);
  if (hasExpired(data, o.absoluteTimeout)) reportExpired(context, sid, data);
  callStore(o.store, 'destroy', [sid], o.storeTimeout, (e) => {
    if (e) context.reportLate(e);
  });
  context.generateSession();
}

/**
 * Whether a discarded record was discarded because it expired: its cookie's `expires` has passed,
 * or it is older than `absoluteTimeout`. (Only on the discard path: a usable record costs nothing.)
 */
function hasExpired(data: SessionRecord, absoluteTimeout: number | undefined): boolean {
  if (!isRecord(data.cookie)) return false;
  const now = Date.now();
  const { expires, createdAt } = data.cookie as { expires?: unknown; createdAt?: unknown };
  if (typeof expires === 'string' || typeof expires === 'number') {
    if (new Date(expires).getTime() <= now) return true;
  }
  return (
    Boolean(absoluteTimeout) &&
    typeof createdAt === 'number' &&
    now - createdAt >= (absoluteTimeout as number)
  );
}

/** The `expired` event of a record this request found expired (with its user, if `userKey`). */
function reportExpired<Res>(context: RequestContext<Res>, sid: string, data: SessionRecord): void {
  const userKey = context.engine.options.userKey;
  context.engine.emit('expired', {
    sessionId: sid,
    userId: userKey ? sessionUser(userKey, data) : undefined,
    source: 'load',
    req: context.req,
  });
}

/** Builds `req.session` from the record and records it as the request's original state. */
function inflate<Res>(context: RequestContext<Res>, data: SessionRecord, hash: string): void {
  const req = context.req;
  const o = context.engine.options;
  const session = inflateSession(o.store, req, data);
  if (o.reapplyCookieOptions) reapplyCookieOptions(context, session);
  if (o.absoluteTimeout && session.cookie.createdAt === undefined) {
    session.cookie.createdAt = Date.now();
  }
  context.originalId = req.sessionID;
  context.originalHash = hash;
  if (o.concurrency === 'merge') context.snapshot = snapshotKeys(data);
  const expires = (req.session as RequestSession).cookie.expires;
  if (expires instanceof Date) context.loadedExpires = expires.getTime();
  if (!o.resave) {
    context.savedHash = context.originalHash;
    context.savedId = context.originalId;
  }
  context.loadedFromStore = true;
  context.engine.emit('loaded', { sessionId: req.sessionID as string, req });
}

/** The configured attributes replace the stored ones (only expiry and lifetime are kept). */
function reapplyCookieOptions<Res>(context: RequestContext<Res>, session: RequestSession): void {
  const options = context.cookieOptions;
  const cookie = session.cookie;
  const secure =
    options.secure === 'auto' || options.sameSite === 'auto'
      ? isSecureRequest(context.req, context.engine.options.proxy)
      : false;
  cookie.path = options.path ?? '/';
  cookie.httpOnly = options.httpOnly ?? true;
  cookie.domain = options.domain;
  cookie.secure = options.secure === 'auto' ? secure : options.secure;
  cookie.sameSite = options.sameSite === 'auto' ? (secure ? 'none' : 'lax') : options.sameSite;
  cookie.partitioned = options.partitioned;
  cookie.priority = options.priority;
}
