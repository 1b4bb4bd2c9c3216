import type { IncomingMessage, ServerResponse } from 'node:http';
import { serialize } from 'cookie';
import { BoundedMap } from '../bounded-map';
import { Cookie, type CookieOptions } from '../cookie';
import { EMPTY_FINGERPRINT, fingerprint } from '../fingerprint';
import { onHeaders } from '../transport/on-headers';
import { requestPath } from '../transport/request-path';
import { SESSION_STATE, type SessionLifecycle } from '../request-state';
import { isSecureRequest } from '../secure-request';
import { Session, inflateSession } from '../session';
import {
  VerifiedCookieCache,
  appendSetCookie,
  readSessionId,
  signedCookieValue,
} from '../transport/session-cookie';
import type { SessionRecord } from '../session-data';
import type { RequestSession, SessionRequest } from '../session';
import type { ResolvedSessionOptions } from '../session-options';
import { type SecretKey, prepareKey } from '../signature';
import { SessionDataError } from '../session-data-error';
import type { SessionEventMap, SessionEventName } from '../session-events';
import { isStoredSession } from '../session-origin';
import { sessionUser } from '../session-user';
import { diffSession, snapshotKeys, type SessionPatch } from '../session-patch';
import { StoreTimeoutError, callStore } from '../store/store-call';

/** Connect-style `next`. */
export type NextFunction = (err?: unknown) => void;

/** The session middleware: `(req, res, next)`, usable with Express, Connect or plain `node:http`. */
export type SessionMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunction,
) => void;

type EndFunction = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
type WriteFunction = (this: ServerResponse, ...args: unknown[]) => boolean;
type Chunk = string | Buffer | Uint8Array | undefined | null;
type Callback = (() => void) | undefined;

/** A store error (as opposed to bad session data) in strict mode: answered with 503. */
const STORE_UNAVAILABLE = 503;
const UNSERIALIZABLE = 500;

function isTimeout(err: unknown): boolean {
  return err instanceof StoreTimeoutError || (err as { code?: unknown })?.code === 'ESTORETIMEOUT';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** UTF-8 size of a string. */
function byteLength(text: string): number {
  return Buffer.byteLength(text);
}

function isRecord(value: unknown): value is SessionRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A stored record the engine can turn into a session (used with `discardInvalidRecords`). */
function isUsableRecord(value: unknown): value is SessionRecord {
  if (!isRecord(value) || !isRecord(value.cookie)) return false;
  const expires = value.cookie.expires;
  if (expires === null || expires === undefined || expires === false) return true;
  const at = new Date(expires as string).getTime();
  return !Number.isNaN(at) && at > Date.now();
}

/**
 * The engine behind the middleware: options resolved once, the store's connection state, and
 * the per-request handling.
 * @internal
 */
export class SessionEngine {
  /** The middleware function (bound). */
  readonly middleware: SessionMiddleware;
  /** Whether the store said it is connected (`'connect'`/`'disconnect'` events). */
  storeReady = true;
  /** Cookie values this engine already verified (only with a fixed `secret`). */
  private readonly verified = new VerifiedCookieCache();
  /** Whether the store has `touch` (checked once, as express-session does). */
  readonly storeImplementsTouch: boolean;
  /**
   * With `touchAfter`: the expiry (epoch ms) each recently touched session was given by a touch
   * this process sent (the latest 10,000 sessions), so that parallel requests of one browser do
   * not all touch it (one does).
   */
  readonly recentTouches = new BoundedMap<string, number>(10_000);
  /** The configured secrets, prepared once for HMAC (see `prepareKey`). */
  private readonly keys: readonly SecretKey[] | undefined;

  constructor(readonly options: ResolvedSessionOptions) {
    const store = options.store;
    if (typeof store.on !== 'function') throw new TypeError('store.on is not a function');
    store.on('disconnect', () => {
      this.storeReady = false;
    });
    store.on('connect', () => {
      this.storeReady = true;
    });
    this.storeImplementsTouch = typeof store.touch === 'function';
    this.keys = options.secrets?.map(prepareKey);
    // Store#regenerate calls store.generate(req). Dispatch to the middleware that is handling
    // that request, so several middleware sharing one store do not overwrite each other.
    store.generate = ((req: SessionRequest) => {
      const context = (req as ContextRequest)[SESSION_STATE];
      if (context) context.generate();
      else
        new RequestContext(
          this,
          req,
          undefined,
          undefined,
          this.cookieOptionsFor(req),
          [],
        ).generate();
    }) as never;
    this.middleware = (req, res, next) => this.handle(req as SessionRequest, res, next);
  }

  /** Calls the `events` hook for `name`; a hook that throws never breaks the request. */
  emit<K extends SessionEventName>(name: K, event: SessionEventMap[K]): void {
    const hook = this.options.events?.[name] as ((e: SessionEventMap[K]) => void) | undefined;
    if (!hook) return;
    try {
      hook(event);
    } catch (err) {
      if (this.options.onError) this.options.onError(err, event.req);
      else console.error(`nest-session: the ${name} event hook threw:`, err);
    }
  }

  /** The cookie options for a request (the function form is called once per request). */
  cookieOptionsFor(req: SessionRequest): CookieOptions {
    const cookie = this.options.cookie;
    return typeof cookie === 'function' ? cookie(req) : cookie;
  }

  private handle(req: SessionRequest, res: ServerResponse, next: NextFunction): void {
    if (req.session) return next();
    if (!this.storeReady) return next();
    const o = this.options;
    const cookieOptions = this.cookieOptionsFor(req);
    if (!requestPath(req).startsWith(cookieOptions.path || '/')) return next();

    const secrets = this.keys ?? (req.secret ? [req.secret] : undefined);
    if (!secrets) return next(new Error('secret option required for sessions'));

    req.sessionStore = o.store;
    const fromCookie = readSessionId(
      req,
      o.name,
      secrets,
      o.isValidId,
      o.secrets ? this.verified : undefined,
    );
    const cookieId = fromCookie?.id;
    const context = new RequestContext(this, req, res, next, cookieOptions, secrets, cookieId);
    // Signed with an older secret: send the cookie again, signed with the current one.
    if (fromCookie?.oldSecret && o.resignCookies) context.resign = true;
    (req as ContextRequest)[SESSION_STATE] = context;

    if (!cookieId) {
      if (!o.saveUninitialized) {
        // Nothing to do unless the handler uses the session: create it on first access.
        context.defineLazySession();
        return next();
      }
      req.sessionID = undefined;
      context.hook();
      context.generateSession();
      return next();
    }
    req.sessionID = cookieId;
    context.hook();
    context.load(cookieId);
  }
}

type ContextRequest = SessionRequest & { [SESSION_STATE]?: RequestContext };

function contextOf(req: ContextRequest): RequestContext {
  return req[SESSION_STATE] as RequestContext;
}

// The lazy accessors stay for the whole request and keep their values in the context: turning
// them back into data properties would reshape the request object (slow for everything after).
// `delete req.session` still removes the session (it deletes the accessor).
/** An accessor (built once, shared by every request) backed by one of the context's slots. */
function lazyAccessor(slot: 'sessionSlot' | 'sessionIdSlot'): PropertyDescriptor {
  return {
    configurable: true,
    enumerable: true,
    get(this: ContextRequest) {
      const context = contextOf(this);
      if (context.lazy) context.materialize();
      return context[slot];
    },
    set(this: ContextRequest, value: unknown) {
      const context = contextOf(this);
      context.lazy = false;
      (context as { [K in typeof slot]: unknown })[slot] = value;
    },
  };
}

const LAZY_SESSION = lazyAccessor('sessionSlot');
const LAZY_SESSION_ID = lazyAccessor('sessionIdSlot');

/**
 * Per-request bookkeeping: what was loaded, what was saved, and the response hooks that save,
 * touch, destroy and set the cookie at the right moment.
 * @internal
 */
class RequestContext implements SessionLifecycle<RequestSession> {
  originalId: string | undefined;
  originalHash: string | undefined;
  savedId: string | undefined;
  savedHash: string | undefined;
  touched = false;
  headersHandled = false;
  cookieSent = false;
  hooked = false;
  loadedFromStore = false;
  loadFailed = false;
  /** The session is still to be created on first access (lazy accessors installed). */
  lazy = false;
  /** Values behind the lazy accessors. */
  sessionSlot: RequestSession | null | undefined;
  sessionIdSlot: string | undefined;
  /** The cookie was signed with an older secret: re-send it signed with the current one. */
  resign = false;
  /** The cookie attributes of a session destroyed during this request (to clear the cookie). */
  destroyedCookie: CookieOptions | undefined;
  /** `concurrency: 'merge'`: the JSON of each data key as last read or written. */
  snapshot: Map<string, string> | undefined;
  /** While a decision is being taken (data cannot change): the fingerprint computed for it. */
  private memo: { on: boolean; session: object | undefined; value: string } = {
    on: false,
    session: undefined,
    value: '',
  };
  /** Id of the new session already reported as `created` (a second save is not a creation). */
  createdId: string | undefined;
  /** The stored expiry (epoch ms) of a loaded session, for `touchAfter`. */
  loadedExpires = NaN;

  constructor(
    private readonly engine: SessionEngine,
    private readonly req: SessionRequest,
    private readonly res: ServerResponse | undefined,
    private readonly next: NextFunction | undefined,
    private readonly cookieOptions: CookieOptions,
    private readonly secrets: readonly SecretKey[],
    private readonly cookieId?: string,
  ) {}

  get storeTimeout(): number | undefined {
    return this.engine.options.storeTimeout;
  }

  /** Store-level generation: new id, new Session, new Cookie (with `'auto'` values resolved). */
  generate(): void {
    const req = this.req;
    const o = this.engine.options;
    req.sessionID = o.genid(req);
    const session = new Session(req) as RequestSession;
    const cookie = new Cookie(this.cookieOptions);
    const secure =
      this.cookieOptions.secure === 'auto' || this.cookieOptions.sameSite === 'auto'
        ? isSecureRequest(req, o.proxy)
        : false;
    if (this.cookieOptions.secure === 'auto') cookie.secure = secure;
    if (this.cookieOptions.sameSite === 'auto') cookie.sameSite = secure ? 'none' : 'lax';
    if (o.absoluteTimeout) cookie.createdAt = Date.now();
    session.cookie = cookie;
    req.session = session;
  }

  /** Request-level generation: also records the new session as the request's original state. */
  generateSession(): void {
    this.generate();
    this.originalId = this.req.sessionID;
    this.originalHash = EMPTY_FINGERPRINT;
  }

  patchFor(session: RequestSession): SessionPatch | undefined {
    // Only a session read from the store, still under the id it was read with, can be patched.
    if (!this.snapshot || !isStoredSession(session) || session.id !== this.originalId) {
      return undefined;
    }
    const patch = diffSession(this.snapshot, session);
    this.snapshot = snapshotKeys(session); // a later save in this request sends only what follows
    return patch;
  }

  mapStoreError(err: unknown): unknown {
    const map = this.engine.options.mapStoreError;
    return map && !(err instanceof SessionDataError) ? map(err, this.req) : err;
  }

  afterSave(session: RequestSession): void {
    const created = !isStoredSession(session) && session.id !== this.createdId;
    if (created) {
      this.createdId = session.id;
      this.engine.emit('created', { sessionId: session.id, req: this.req });
    }
    this.engine.emit('saved', { sessionId: session.id, req: this.req, created });
    this.indexUser(session);
  }

  /** Keeps the store's per-user index in step (`userKey`), when the store has one. */
  private indexUser(session: RequestSession): void {
    const o = this.engine.options;
    const store = o.store as {
      addUserSession?: (userId: string, sid: string, s: RequestSession) => Promise<void>;
    };
    if (!o.userKey || typeof store.addUserSession !== 'function') return;
    const user = sessionUser(o.userKey, session);
    if (user === undefined) return;
    let pending: Promise<void>;
    try {
      pending = Promise.resolve(store.addUserSession(user, session.id, session));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.catch((err: unknown) => {
      this.onStoreError('set', session.id, err);
      this.reportLate(err);
    });
  }

  afterRegenerate(previousId: string): void {
    this.engine.emit('regenerated', {
      previousId,
      sessionId: this.req.sessionID as string,
      req: this.req,
    });
  }

  onStoreError(
    operation: 'get' | 'set' | 'touch' | 'destroy',
    sessionId: string | undefined,
    error: unknown,
  ): void {
    this.engine.emit('storeError', { operation, sessionId, error, req: this.req });
  }

  onDestroy(session: RequestSession): void {
    // Only a session that was in the store counts (not a new one never saved).
    if (isStoredSession(session) || this.createdId === session.id) {
      this.engine.emit('destroyed', { sessionId: session.id, req: this.req });
    }
    if (this.cookieId !== undefined && session.id === this.cookieId) {
      const { domain, path, secure, sameSite, partitioned } = session.cookie;
      this.destroyedCookie = { domain, path, secure, sameSite, partitioned };
    }
  }

  beforeSave(session: RequestSession): void {
    let hash: string;
    try {
      hash = this.fingerprintOf(session);
    } catch (err) {
      throw new SessionDataError(`Session data is not serializable: ${messageOf(err)}`, {
        cause: err,
      });
    }
    const maxSize = this.engine.options.maxSize;
    if (maxSize && byteLength(hash) > maxSize) {
      throw new SessionDataError(`Session data exceeds the maximum size of ${maxSize} bytes`);
    }
    this.savedHash = hash;
    this.savedId = session.id;
  }

  /** `req.session` and `req.sessionID` that create the session on first access. */
  defineLazySession(): void {
    // Constant descriptors (no per-request closures): every request gets the same hidden-class
    // transition, so the request object stays fast for everything downstream.
    this.lazy = true;
    Object.defineProperty(this.req, 'session', LAZY_SESSION);
    Object.defineProperty(this.req, 'sessionID', LAZY_SESSION_ID);
  }

  /** First access to the lazy session: create it (and hook the response while it still can be). */
  materialize(): void {
    this.lazy = false;
    if (this.res && !this.res.headersSent) this.hook();
    this.generateSession();
  }

  load(sid: string, attempt = 0): void {
    const o = this.engine.options;
    const next = this.next as NextFunction;
    callStore<SessionRecord | null | undefined>(
      o.store,
      'get',
      [sid],
      o.storeTimeout,
      (err, data) => {
        if (err && (err as { code?: unknown }).code !== 'ENOENT') {
          if (attempt < o.readRetries && !isTimeout(err)) {
            // Reads are safe to repeat: a short backoff rides out a dropped connection.
            setTimeout(() => this.load(sid, attempt + 1), 25 * 2 ** attempt);
            return;
          }
          this.loadFailed = true;
          this.onStoreError('get', sid, err);
          return next(err);
        }
        try {
          // A falsy record that is not "nothing" (0, false, '') is bad data, not a miss.
          if (err || data === null || data === undefined) this.generateSession();
          else if (!data && !this.engine.options.discardInvalidRecords) this.generateSession();
          else this.inflateOrDiscard(sid, data);
        } catch (e) {
          return next(e);
        }
        next();
      },
    );
  }

  /** Inflates a stored record, or replaces it by a fresh session when it is unusable. */
  private inflateOrDiscard(sid: string, data: SessionRecord): void {
    const o = this.engine.options;
    let usable = !o.discardInvalidRecords || isUsableRecord(data);
    if (usable && o.absoluteTimeout) {
      const createdAt = (data.cookie as { createdAt?: unknown }).createdAt;
      usable = typeof createdAt !== 'number' || Date.now() - createdAt < o.absoluteTimeout;
    }
    let hash: string | undefined;
    if (usable) {
      hash = fingerprint(data);
      usable = !o.maxSize || byteLength(hash) <= o.maxSize;
    }
    if (usable) return this.inflate(data, hash as string);
    callStore(o.store, 'destroy', [sid], o.storeTimeout, (e) => {
      if (e) this.reportLate(e);
    });
    this.generateSession();
  }

  private inflate(data: SessionRecord, hash: string): void {
    const req = this.req;
    const o = this.engine.options;
    const session = inflateSession(o.store, req, data);
    if (o.reapplyCookieOptions) this.reapplyCookieOptions(session);
    if (o.absoluteTimeout && session.cookie.createdAt === undefined) {
      session.cookie.createdAt = Date.now();
    }
    this.originalId = req.sessionID;
    this.originalHash = hash;
    if (o.concurrency === 'merge') this.snapshot = snapshotKeys(data);
    const expires = (req.session as RequestSession).cookie.expires;
    if (expires instanceof Date) this.loadedExpires = expires.getTime();
    if (!this.engine.options.resave) {
      this.savedHash = this.originalHash;
      this.savedId = this.originalId;
    }
    this.loadedFromStore = true;
    this.engine.emit('loaded', { sessionId: req.sessionID as string, req });
  }

  /** The configured attributes replace the stored ones (only expiry and lifetime are kept). */
  private reapplyCookieOptions(session: RequestSession): void {
    const options = this.cookieOptions;
    const cookie = session.cookie;
    const secure =
      options.secure === 'auto' || options.sameSite === 'auto'
        ? isSecureRequest(this.req, this.engine.options.proxy)
        : false;
    cookie.path = options.path ?? '/';
    cookie.httpOnly = options.httpOnly ?? true;
    cookie.domain = options.domain;
    cookie.secure = options.secure === 'auto' ? secure : options.secure;
    cookie.sameSite = options.sameSite === 'auto' ? (secure ? 'none' : 'lax') : options.sameSite;
    cookie.partitioned = options.partitioned;
    cookie.priority = options.priority;
  }

  /** The session's fingerprint, computed once per decision (the rules ask for it several times). */
  private fingerprintOf(session: RequestSession): string {
    const memo = this.memo;
    if (memo.on && memo.session === session) return memo.value;
    const value = fingerprint(session);
    if (memo.on) {
      memo.session = session;
      memo.value = value;
    }
    return value;
  }

  /** Runs a synchronous decision with the fingerprint memoized. */
  private deciding<T>(decide: () => T): T {
    const memo = this.memo;
    if (memo.on) return decide();
    memo.on = true;
    try {
      return decide();
    } finally {
      memo.on = false;
      memo.session = undefined;
      memo.value = '';
    }
  }

  // --- decision rules (express-session 3.8, with savedId so a regenerated session saved
  // explicitly is not written twice) ---

  private isModified(session: RequestSession): boolean {
    return this.originalId !== session.id || this.originalHash !== this.fingerprintOf(session);
  }

  private isSaved(session: RequestSession): boolean {
    return this.savedId === session.id && this.savedHash === this.fingerprintOf(session);
  }

  private shouldSave(session: RequestSession): boolean {
    const id = this.req.sessionID;
    if (typeof id !== 'string') return false;
    return !this.engine.options.saveUninitialized && !this.savedHash && this.cookieId !== id
      ? this.isModified(session)
      : !this.isSaved(session);
  }

  /** A 5xx answer whose session changes are not to be kept (`saveOnServerError: false`). */
  private failedResponse(): boolean {
    return !this.engine.options.saveOnServerError && (this.res as ServerResponse).statusCode >= 500;
  }

  /** Called when the session is not being saved: refresh the store's expiry? */
  private shouldTouch(session: RequestSession): boolean {
    const id = this.req.sessionID;
    if (!this.engine.storeImplementsTouch || typeof id !== 'string' || this.cookieId !== id) {
      return false;
    }
    const touchAfter = this.engine.options.touchAfter;
    if (touchAfter === 0 || Number.isNaN(this.loadedExpires)) return true;
    const expires = session.cookie.expires;
    if (!(expires instanceof Date)) return true;
    const maxAge = session.cookie.originalMaxAge;
    const margin = typeof maxAge === 'number' ? Math.min(touchAfter, maxAge / 10) : touchAfter;
    const at = expires.getTime();
    if (at - this.loadedExpires < margin) return false;
    // Read before another request of this process touched it (or while that touch is on its way).
    const recent = this.engine.recentTouches.get(id);
    return recent === undefined || at - recent >= margin;
  }

  private shouldDestroy(): boolean {
    return (
      Boolean(this.req.sessionID) &&
      this.engine.options.unset === 'destroy' &&
      this.req.session == null &&
      !this.loadFailed
    );
  }

  private shouldSetCookie(session: RequestSession): boolean {
    const o = this.engine.options;
    const id = this.req.sessionID;
    if (typeof id !== 'string') return false;
    return this.cookieId !== id
      ? o.saveUninitialized || this.isModified(session)
      : o.rolling || this.resign || (session.cookie.expires != null && this.isModified(session));
  }

  /** Whether the cookie may go out on this request (a `Secure` cookie needs a secure request). */
  private cookieAllowed(session: RequestSession): boolean {
    return !session.cookie.secure || isSecureRequest(this.req, this.engine.options.proxy);
  }

  /**
   * A session that did not come from the request's cookie and whose cookie is not (or will not
   * be) sent: storing it would leave a record nobody can ever use.
   */
  private isOrphan(session: RequestSession): boolean {
    if (this.cookieId === this.req.sessionID) return false;
    if (this.res?.headersSent || this.headersHandled) return !this.cookieSent;
    return !(this.shouldSetCookie(session) && this.cookieAllowed(session));
  }

  // --- response hooks ---

  /** Reports an error that can no longer change the response. */
  reportLate(err: unknown): void {
    const onError = this.engine.options.onError;
    if (onError) onError(err, this.req);
    else if (this.next) setImmediate(this.next, err);
  }

  /** Decides and sets the cookie; runs once, just before the headers are written. */
  private setCookieHeader(throwErrors: boolean): void {
    if (this.headersHandled) return;
    this.headersHandled = true;
    const session = this.req.session;
    if (!session) {
      if (this.destroyedCookie && this.engine.options.clearCookieOnDestroy) this.clearCookie();
      return;
    }
    try {
      if (this.failedResponse()) return;
      if (!this.shouldSetCookie(session) || !this.cookieAllowed(session)) return;
      if (!this.touched) {
        session.touch();
        this.touched = true;
      }
      const value = signedCookieValue(this.req.sessionID as string, this.secrets[0] as SecretKey);
      const line = serialize(
        this.engine.options.name,
        value,
        session.cookie.data as Parameters<typeof serialize>[2],
      );
      appendSetCookie(this.res as ServerResponse, line);
      this.cookieSent = true;
    } catch (err) {
      if (throwErrors) throw err;
      this.reportLate(err);
    }
  }

  /** Tells the browser to drop the cookie of the session destroyed during this request. */
  private clearCookie(): void {
    const attributes = { ...this.destroyedCookie, httpOnly: true, expires: new Date(0) };
    const line = serialize(
      this.engine.options.name,
      '',
      attributes as Parameters<typeof serialize>[2],
    );
    appendSetCookie(this.res as ServerResponse, line);
  }

  /** `unset: 'destroy'`: removes the session that was taken off the request. */
  private unsetDestroy(callback: (err?: unknown) => void): void {
    const sid = this.req.sessionID as string;
    const o = this.engine.options;
    callStore(o.store, 'destroy', [sid], o.storeTimeout, (err) => {
      if (err) this.onStoreError('destroy', sid, err);
      else this.engine.emit('destroyed', { sessionId: sid, req: this.req });
      callback(err);
    });
  }

  /** Refreshes the store's expiry of an unchanged session. */
  private storeTouch(session: RequestSession, callback: (err?: unknown) => void): void {
    const sid = this.req.sessionID as string;
    const o = this.engine.options;
    const expires = session.cookie.expires;
    const recent = this.engine.recentTouches;
    const at = o.touchAfter > 0 && expires instanceof Date ? expires.getTime() : NaN;
    if (!Number.isNaN(at)) recent.set(sid, at);
    callStore(o.store, 'touch', [sid, session], o.storeTimeout, (err) => {
      if (err) {
        // Not extended after all: the next request touches it again.
        if (recent.get(sid) === at) recent.delete(sid);
        this.onStoreError('touch', sid, err);
      } else this.indexUser(session);
      callback(err);
    });
  }

  /** Installs the header hook and the `res.end` patch (once). */

  hook(): void {
    if (this.hooked) return;
    this.hooked = true;
    const res = this.res as ServerResponse;
    onHeaders(res, () => this.deciding(() => this.setCookieHeader(false)));
    const originalEnd = res.end as unknown as EndFunction;
    const originalWrite = res.write as unknown as WriteFunction;
    let ended = false;
    const finish = (chunk: unknown, encoding: unknown, callback: unknown): unknown =>
      this.deciding(() =>
        this.engine.options.strictWrites && !res.headersSent
          ? this.endStrict(
              originalEnd,
              chunk as Chunk,
              encoding as BufferEncoding,
              callback as Callback,
            )
          : this.endCompatible(
              originalEnd,
              originalWrite,
              chunk as Chunk,
              encoding as BufferEncoding,
              callback as Callback,
            ),
      );
    res.end = function end(
      this: ServerResponse,
      chunk?: unknown,
      encoding?: unknown,
      callback?: unknown,
    ) {
      if (ended) return false;
      ended = true;
      if (typeof chunk === 'function') return finish(undefined, undefined, chunk);
      if (typeof encoding === 'function') return finish(chunk, undefined, encoding);
      return finish(chunk, encoding, callback);
    } as unknown as ServerResponse['end'];
  }

  /** Ends the response with the original `end`, passing the caller's callback along. */
  private endWith(
    originalEnd: EndFunction,
    chunk: Chunk,
    encoding: BufferEncoding | undefined,
    callback: Callback,
  ): unknown {
    const res = this.res as ServerResponse;
    return callback
      ? originalEnd.call(res, chunk, encoding, callback)
      : originalEnd.call(res, chunk, encoding);
  }

  /**
   * express-session's end: start the store operation, flush the headers and all but the end of
   * the body, and finish the response when the store answers. Store errors go to `next` after.
   */
  private endCompatible(
    originalEnd: EndFunction,
    originalWrite: WriteFunction,
    chunk: Chunk,
    encoding: BufferEncoding | undefined,
    callback: Callback,
  ): unknown {
    const req = this.req;
    const res = this.res as ServerResponse;
    let pending = true;
    let ret: unknown;

    const writeEnd = (): void => {
      if (pending) {
        ret = this.endWith(originalEnd, chunk, encoding, callback);
        pending = false;
      } else if (callback) {
        originalEnd.call(res, callback);
      } else {
        originalEnd.call(res);
      }
    };
    const answered = (err?: unknown): void => {
      if (err) this.reportLate(err);
      writeEnd();
    };
    const writeTop = (): unknown => {
      if (!pending) return ret;
      if (!res.headersSent) res.writeHead(res.statusCode);
      if (chunk == null) {
        ret = true;
        return ret;
      }
      const contentLength = Number(res.getHeader('Content-Length'));
      if (!Number.isNaN(contentLength) && contentLength > 0) {
        // Hold the last byte back: with a fixed length the client would see a complete
        // response (and send its next request) before the store write finished.
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding);
        encoding = undefined;
        if (buffer.length !== 0) {
          ret = originalWrite.call(res, buffer.subarray(0, buffer.length - 1));
          chunk = buffer.subarray(buffer.length - 1);
          return ret;
        }
        chunk = buffer;
      }
      ret = originalWrite.call(res, chunk, encoding);
      pending = false;
      return ret;
    };

    let started = false;
    try {
      if (this.shouldDestroy()) {
        started = true;
        this.unsetDestroy(answered);
        return writeTop();
      }
      const session = req.session;
      if (!session) return this.endWith(originalEnd, chunk, encoding, callback);
      if (!this.touched) {
        session.touch();
        this.touched = true;
      }
      if (this.failedResponse()) return this.endWith(originalEnd, chunk, encoding, callback);
      if (this.shouldSave(session)) {
        if (this.isOrphan(session)) return this.endWith(originalEnd, chunk, encoding, callback);
        started = true;
        session.save(answered);
        return writeTop();
      }
      if (this.shouldTouch(session)) {
        started = true;
        this.storeTouch(session, answered);
        return writeTop();
      }
    } catch (err) {
      if (started) throw err;
      this.reportLate(err);
    }
    return this.endWith(originalEnd, chunk, encoding, callback);
  }

  /**
   * Strict mode (`strictWrites`): the cookie is decided and the store written before anything is
   * sent; a failed write turns the response into a clear error, so a response that completed
   * normally means the write is in the store.
   */
  private endStrict(
    originalEnd: EndFunction,
    chunk: Chunk,
    encoding: BufferEncoding | undefined,
    callback: Callback,
  ): unknown {
    const req = this.req;
    const res = this.res as ServerResponse;
    const previousCookies = res.getHeader('Set-Cookie');
    const succeed = (): unknown => this.endWith(originalEnd, chunk, encoding, callback);
    const fail = (err: unknown, status: number): void => {
      if (previousCookies === undefined) res.removeHeader('Set-Cookie');
      else res.setHeader('Set-Cookie', previousCookies);
      this.reportStrict(err);
      this.sendError(originalEnd, status, err, callback);
    };
    const afterWrite = (err?: unknown): void => {
      if (!err) succeed();
      else fail(err, err instanceof SessionDataError ? UNSERIALIZABLE : STORE_UNAVAILABLE);
    };

    let started = false;
    try {
      if (this.shouldDestroy()) {
        started = true;
        this.unsetDestroy(afterWrite);
        return res;
      }
      const session = req.session;
      if (!session) return succeed();
      if (!this.touched) {
        session.touch();
        this.touched = true;
      }
      this.setCookieHeader(true);
      if (this.failedResponse()) return this.endWith(originalEnd, chunk, encoding, callback);
      if (this.shouldSave(session)) {
        if (this.isOrphan(session)) return succeed();
        started = true;
        session.save(afterWrite);
        return res;
      }
      if (this.shouldTouch(session)) {
        started = true;
        // A failed touch only delays the sliding expiry: the data is intact, so the response stands.
        this.storeTouch(session, (err) => {
          if (err) this.reportStrict(err);
          succeed();
        });
        return res;
      }
    } catch (err) {
      if (started) throw err;
      fail(
        err instanceof SessionDataError
          ? err
          : new SessionDataError(`Session data is not serializable: ${messageOf(err)}`, {
              cause: err,
            }),
        UNSERIALIZABLE,
      );
      return res;
    }
    return succeed();
  }

  private reportStrict(err: unknown): void {
    const onError = this.engine.options.onError;
    if (onError) onError(err, this.req);
    else console.error('nest-session:', err);
  }

  /** Replaces the response that was about to go out with a JSON error (headers not yet sent). */
  private sendError(
    originalEnd: EndFunction,
    status: number,
    err: unknown,
    callback: Callback,
  ): void {
    const res = this.res as ServerResponse;
    const unavailable = status === STORE_UNAVAILABLE;
    const body = JSON.stringify({
      statusCode: status,
      message: unavailable
        ? 'Session store unavailable'
        : err instanceof SessionDataError
          ? err.message
          : 'Session data could not be saved',
      error: unavailable ? 'Service Unavailable' : 'Internal Server Error',
    });
    for (const name of [
      'Content-Length',
      'Content-Type',
      'Content-Encoding',
      'ETag',
      'Last-Modified',
    ]) {
      res.removeHeader(name);
    }
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.setHeader('Cache-Control', 'no-store');
    if (unavailable) res.setHeader('Retry-After', '1');
    this.endWith(originalEnd, body, 'utf8', callback);
  }
}
