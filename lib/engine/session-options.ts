import type { CookieOptions } from './cookie';
import { deprecate } from './deprecate';
import { type EncryptionOptions, checkEncryptionOptions } from './encryption';
import type { ProxySetting } from './secure-request';
import type { RequestSession, SessionRequest } from './session';
import type { SessionEventHooks } from './session-events';
import { generateSessionId } from './session-id';
import type { SecretKey } from './signature';
import { EncryptedStore } from './store/encrypted-store';
import type { StoreLike } from './store/store-like';

/** The session engine's options: express-session's, plus a few of our own (marked). */
export interface SessionOptions {
  /**
   * Key(s) that sign the session cookie. With an array the first signs and all verify, so a new
   * secret can be put first while old cookies stay valid.
   */
  secret?: SecretKey | SecretKey[];
  /** Cookie name. Default `'connect.sid'`. */
  name?: string;
  /** @deprecated legacy alias of `name`. */
  key?: string;
  /** Cookie settings, or a function of the request returning them (called once per request). */
  cookie?: CookieOptions | ((req: SessionRequest) => CookieOptions);
  /**
   * (ours) The name of a request header that carries the session id instead of the cookie (for
   * clients without a cookie jar: mobile apps, CLIs, servers), e.g. `'x-session-id'`. A request
   * carrying it (even empty) gets its id from it and back in the same response header, never in
   * `Set-Cookie`; other requests use the cookie. Default: none (cookie only).
   */
  header?: string;
  /** Generates a new session id. Default: 24 random bytes, base64url (32 characters). */
  genid?: (req: SessionRequest) => string;
  /**
   * (ours) Rejects cookie values that are not ids we could have issued, before any HMAC work or
   * store read (they get a fresh session). Default: none (any signed id is accepted, as
   * express-session). See {@link isDefaultSessionId} for ids from the default `genid`.
   */
  isValidId?: (id: string) => boolean;
  /** How to tell whether the request is HTTPS behind a proxy (see {@link ProxySetting}). */
  proxy?: ProxySetting;
  /** Write an unchanged loaded session back to the store on every request. */
  resave?: boolean;
  /** Send the cookie (refreshing its expiry) on every response for an existing session. */
  rolling?: boolean;
  /** Store and send a cookie for new sessions even when nothing was put in them. */
  saveUninitialized?: boolean;
  /** The session store. Default: a new `MemoryStore`. */
  store?: StoreLike;
  /** What to do when `req.session` is removed during the request: `'keep'` (default) or `'destroy'`. */
  unset?: 'destroy' | 'keep';
  /**
   * (ours) Milliseconds after which a store operation that has not answered fails with a
   * `StoreTimeoutError`. Default: none (express-session's behaviour).
   */
  storeTimeout?: number;
  /**
   * (ours) Skip the store `touch` of an unchanged session while the expiry it would set is less
   * than this many milliseconds (and less than a tenth of the cookie's `maxAge`) later than the
   * stored one. Saves a store round trip on most read-only requests; the server-side idle timeout
   * is then exact to within that margin. Default 0: touch on every request, as express-session.
   */
  touchAfter?: number;
  /**
   * (ours) Finish the store write before the response's headers go out, and answer 503 when it
   * fails, instead of express-session's "send, then report the error". Default `false`.
   */
  strictWrites?: boolean;
  /**
   * (ours) A stored record without a usable `cookie` gives a fresh session and is deleted,
   * instead of failing the request. Default `false`.
   */
  discardInvalidRecords?: boolean;
  /**
   * (ours) A cookie signed with an older secret (not the first of `secret`) is sent again,
   * signed with the current one. Default `false` (express-session re-sends it only by its
   * usual rules).
   */
  resignCookies?: boolean;
  /**
   * (ours) Absolute lifetime of a session in milliseconds, from its creation, not extended by
   * activity; enforced from the stored record (the cookie keeps a `createdAt`). Default: none.
   */
  absoluteTimeout?: number;
  /**
   * (ours) Largest session, in bytes of JSON (without the cookie). A bigger stored record is
   * discarded on load (fresh session); saving a bigger session fails with a `SessionDataError`.
   * Default: none.
   */
  maxSize?: number;
  /**
   * (ours) How many times a failed store read is retried (with a short exponential backoff,
   * 25 ms, 50 ms, …) before the request fails. Timeouts are not retried. Default 0.
   */
  readRetries?: number;
  /**
   * (ours) Give a loaded session's cookie the configured attributes (domain, path, httpOnly,
   * secure, sameSite, partitioned, priority) instead of those stored in its record. Default
   * `false` (express-session keeps the stored ones until the session is regenerated).
   */
  reapplyCookieOptions?: boolean;
  /**
   * (ours) Persist session changes of a request answered with a 5xx status (default `true`, as
   * express-session). With `false`, a handler that fails after changing the session leaves the
   * stored session as it was, and a new session gets no record and no cookie.
   */
  saveOnServerError?: boolean;
  /**
   * (ours) When the request's session is destroyed (`req.session.destroy()`), also tell the
   * browser to drop the cookie (an expired `Set-Cookie`). Default `false`: express-session sends
   * no cookie at all then.
   */
  clearCookieOnDestroy?: boolean;
  /**
   * (ours) `'merge'`: a request writes only the top-level keys it set or deleted, and the store
   * applies that patch atomically (MemoryStore, RedisStore), so overlapping requests changing
   * different keys all keep their changes (the later write wins per key). Default
   * `'overwrite'`: the whole session is written back, as express-session does.
   */
  concurrency?: 'overwrite' | 'merge';
  /**
   * (ours) How to find the user a session belongs to: a key of the session data (e.g.
   * `'userId'`) or a function of the session (e.g. `(s) => s.passport?.user`). With it, stores
   * that support it keep a per-user index of session ids, for "sign out everywhere".
   */
  userKey?: string | ((session: RequestSession) => unknown);
  /**
   * (ours) Encryption at rest: `{ keys: [key, ...] }` (32-byte keys; the first encrypts, all
   * decrypt). The session data is stored as an AES-256-GCM ciphertext bound to the session id,
   * whatever the store; the cookie stays in clear. See {@link EncryptionOptions} and the README.
   * Cannot be combined with `concurrency: 'merge'`. Default: none (stored in clear).
   */
  encryption?: EncryptionOptions;
  /**
   * (ours) Typed hooks for the session lifecycle (created, loaded, saved, regenerated,
   * destroyed, storeError), e.g. for audit logs and metrics.
   */
  events?: SessionEventHooks;
  /**
   * (ours) Turns a store error met by `save()`, `reload()`, `destroy()` or `regenerate()` into
   * the error your code receives (the Nest module makes it a 503 `SessionStoreUnavailableException`
   * with `Retry-After`). Default: the store's error as it is.
   */
  mapStoreError?: (err: unknown, req: SessionRequest) => unknown;
  /**
   * (ours) Receives errors that cannot reach the response any more (a failed touch in strict
   * mode, a store write that failed after the headers were sent). Default: passed to `next(err)`
   * as express-session does.
   */
  onError?: (err: unknown, req: SessionRequest) => void;
}

/** The options after defaults and validation. @internal */
export interface ResolvedSessionOptions {
  readonly secrets: readonly SecretKey[] | undefined;
  readonly name: string;
  readonly cookie: CookieOptions | ((req: SessionRequest) => CookieOptions);
  /** The session-id request header's name, lower case, or `undefined` (cookie only). */
  readonly header: string | undefined;
  readonly genid: (req: SessionRequest) => string;
  readonly isValidId: ((id: string) => boolean) | undefined;
  readonly proxy: ProxySetting;
  readonly resave: boolean;
  readonly rolling: boolean;
  readonly saveUninitialized: boolean;
  readonly store: StoreLike;
  readonly storeCreated: boolean;
  readonly unset: 'destroy' | 'keep';
  readonly storeTimeout: number | undefined;
  readonly touchAfter: number;
  readonly strictWrites: boolean;
  readonly discardInvalidRecords: boolean;
  readonly clearCookieOnDestroy: boolean;
  readonly saveOnServerError: boolean;
  readonly absoluteTimeout: number | undefined;
  readonly maxSize: number | undefined;
  readonly readRetries: number;
  readonly reapplyCookieOptions: boolean;
  readonly events: SessionEventHooks | undefined;
  readonly mapStoreError: ((err: unknown, req: SessionRequest) => unknown) | undefined;
  readonly concurrency: 'overwrite' | 'merge';
  readonly userKey: string | ((session: RequestSession) => unknown) | undefined;
  readonly resignCookies: boolean;
  readonly onError: ((err: unknown, req: SessionRequest) => void) | undefined;
}

/**
 * The store used when the options name none, supplied by the layer that builds the engine (the
 * engine knows no concrete store): `create` makes it, `check` sees the store finally chosen
 * (configured or created), for example to warn about an in-process store in production.
 * @internal
 */
export interface DefaultStore {
  create(): StoreLike;
  check?(store: StoreLike): void;
}

/**
 * Applies express-session's defaults and validation (same messages, same deprecation notices).
 * @internal
 */
export function resolveSessionOptions(
  options: SessionOptions = {},
  defaultStore: DefaultStore,
): ResolvedSessionOptions {
  const genid = options.genid || generateSessionId;
  if (typeof genid !== 'function') throw new TypeError('genid option must be a function');

  let resave = options.resave;
  if (resave === undefined) {
    deprecate('undefined resave option; provide resave option');
    resave = true;
  }
  let saveUninitialized = options.saveUninitialized;
  if (saveUninitialized === undefined) {
    deprecate('undefined saveUninitialized option; provide saveUninitialized option');
    saveUninitialized = true;
  }

  const unset = options.unset;
  if (unset && unset !== 'destroy' && unset !== 'keep') {
    throw new TypeError('unset option must be "destroy" or "keep"');
  }

  const secret = options.secret;
  let secrets: SecretKey[] | undefined;
  if (Array.isArray(secret)) {
    if (secret.length === 0)
      throw new TypeError('secret option array must contain one or more strings');
    secrets = secret;
  } else if (secret) {
    secrets = [secret];
  } else {
    deprecate('req.secret; provide secret option');
  }

  const storeTimeout = options.storeTimeout;
  if (storeTimeout !== undefined && (typeof storeTimeout !== 'number' || !(storeTimeout >= 0))) {
    throw new TypeError('storeTimeout option must be a number of milliseconds >= 0');
  }

  const touchAfter = options.touchAfter ?? 0;
  if (typeof touchAfter !== 'number' || !(touchAfter >= 0)) {
    throw new TypeError('touchAfter option must be a number of milliseconds >= 0');
  }

  for (const name of ['absoluteTimeout', 'maxSize', 'readRetries'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      throw new TypeError(`${name} option must be a number >= 0`);
    }
  }

  if (
    options.userKey !== undefined &&
    typeof options.userKey !== 'string' &&
    typeof options.userKey !== 'function'
  ) {
    throw new TypeError('userKey option must be a session key or a function of the session');
  }

  if (
    options.concurrency !== undefined &&
    options.concurrency !== 'merge' &&
    options.concurrency !== 'overwrite'
  ) {
    throw new TypeError('concurrency option must be "overwrite" or "merge"');
  }

  const header = options.header;
  const headerProblem = header === undefined ? undefined : sessionHeaderProblem(header);
  if (headerProblem) throw new TypeError(`header option ${headerProblem}`);

  if (options.encryption !== undefined) {
    checkEncryptionOptions(options.encryption);
    if (options.concurrency === 'merge') {
      throw new TypeError(
        'encryption option cannot be combined with concurrency: "merge" (the store cannot ' +
          'splice changed keys into a ciphertext); use concurrency: "overwrite" or no encryption',
      );
    }
  }

  let store = options.store;
  const storeCreated = !store;
  if (!store) store = defaultStore.create();
  defaultStore.check?.(store);
  // Encryption at rest: every store operation goes through the wrapper.
  if (options.encryption !== undefined) store = new EncryptedStore(store, options.encryption);

  return {
    secrets,
    name: options.name || options.key || 'connect.sid',
    cookie: options.cookie || {},
    header: header?.toLowerCase(),
    genid,
    isValidId: options.isValidId,
    proxy: options.proxy,
    resave: Boolean(resave),
    rolling: Boolean(options.rolling),
    saveUninitialized: Boolean(saveUninitialized),
    store,
    storeCreated,
    unset: unset === 'destroy' ? 'destroy' : 'keep',
    storeTimeout: storeTimeout || undefined,
    touchAfter,
    strictWrites: Boolean(options.strictWrites),
    discardInvalidRecords: Boolean(options.discardInvalidRecords),
    clearCookieOnDestroy: Boolean(options.clearCookieOnDestroy),
    saveOnServerError: options.saveOnServerError ?? true,
    absoluteTimeout: options.absoluteTimeout || undefined,
    maxSize: options.maxSize || undefined,
    readRetries: Math.floor(options.readRetries ?? 0),
    reapplyCookieOptions: Boolean(options.reapplyCookieOptions),
    events: options.events,
    mapStoreError: options.mapStoreError,
    userKey: options.userKey,
    concurrency: options.concurrency === 'merge' ? 'merge' : 'overwrite',
    resignCookies: Boolean(options.resignCookies),
    onError: options.onError,
  };
}

/** An HTTP header name (an RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Headers that cannot carry the session id: a browser may not set them (fetch's forbidden
 * request headers), or they already mean something to HTTP, to cookies or to CORS.
 */
const RESERVED_HEADERS = new Set([
  'accept-charset',
  'accept-encoding',
  'access-control-request-headers',
  'access-control-request-method',
  'connection',
  'content-length',
  'content-type',
  'cookie',
  'cookie2',
  'date',
  'dnt',
  'expect',
  'host',
  'keep-alive',
  'origin',
  'referer',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
]);

/**
 * Why `header` cannot be the session-id header (`undefined`: it can). Shared by the engine's
 * and the Nest module's validation.
 * @internal
 */
export function sessionHeaderProblem(header: unknown): string | undefined {
  if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
    return "must be an HTTP header name such as 'x-session-id'";
  }
  const name = header.toLowerCase();
  if (
    RESERVED_HEADERS.has(name) ||
    name.startsWith('sec-') ||
    name.startsWith('proxy-') ||
    name.startsWith('access-control-')
  ) {
    return `cannot be '${header}': browsers forbid it or HTTP already gives it a meaning; use a name of your own such as 'x-session-id'`;
  }
  return undefined;
}
