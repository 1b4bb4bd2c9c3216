import type { BoundedMap } from '../bounded-map';
import { Cookie, type CookieOptions } from '../cookie';
import { EMPTY_FINGERPRINT, fingerprint } from '../fingerprint';
import { type SessionLifecycle, inheritsSessionAccessors } from '../request-state';
import { isSecureRequest } from '../secure-request';
import { type RequestSession, type SessionRequest, Session } from '../session';
import { SessionDataError } from '../session-data-error';
import type { SessionEventMap, SessionEventName } from '../session-events';
import type { ResolvedSessionOptions } from '../session-options';
import { isStoredSession } from '../session-origin';
import { diffSession, snapshotKeys, type SessionPatch } from '../session-patch';
import { sessionUser } from '../session-user';
import type { SecretKey } from '../signature';
import { callStore } from '../store/store-call';
import type {
  SessionCommit,
  SessionHost,
  SessionIdTransport,
  StoreAction,
} from '../transport/transport';
import {
  type DecisionState,
  isFailedResponse,
  isOrphan,
  shouldDestroy,
  shouldSave,
  shouldSendId,
  shouldTouch,
} from './decisions';
import { defineLazySession } from './lazy-session';

/** Connect-style `next`. */
export type NextFunction = (err?: unknown) => void;

/** What a request's context uses of its engine (the engine implements it). @internal */
export interface EngineServices<Res> {
  readonly options: ResolvedSessionOptions;
  /** Whether the store has `touch`. */
  readonly storeImplementsTouch: boolean;
  /** With `touchAfter`: the expiry each recently touched session was given by this process. */
  readonly recentTouches: BoundedMap<string, number>;
  /** Seam (a): where the id comes from and goes back to. */
  readonly idTransport: SessionIdTransport<Res>;
  /** Seam (b): where the session is exposed and when it is committed. */
  readonly host: SessionHost<Res>;
  emit<K extends SessionEventName>(name: K, event: SessionEventMap[K]): void;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Per-request bookkeeping: what was loaded, what was saved, what was sent. It is the session's
 * {@link SessionLifecycle} (what `req.session`'s methods report to), the {@link DecisionState}
 * the end-of-request decisions read, and the {@link SessionCommit} a host runs.
 * @internal
 */
export class RequestContext<Res>
  implements SessionLifecycle<RequestSession>, DecisionState, SessionCommit
{
  originalId: string | undefined;
  originalHash: string | undefined;
  savedId: string | undefined;
  savedHash: string | undefined;
  touched = false;
  idDecided = false;
  idSent = false;
  hooked = false;
  loadedFromStore = false;
  loadFailed = false;
  /** The session is still to be created on first access (lazy accessors installed). */
  lazy = false;
  /** Values behind the lazy accessors. */
  sessionSlot: RequestSession | null | undefined;
  sessionIdSlot: string | undefined;
  /** The id was signed with an older secret: send it again signed with the current one. */
  resign = false;
  /** The cookie attributes of a session destroyed during this request (to clear the id). */
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
  /** The store refused this request's save or touch: the session no longer exists. */
  refused = false;
  /** The store refreshed the expiry in the read (`getAndTouch`). */
  refreshedAtLoad = false;
  /** Seam (a) for this request: the engine's, or the one it picked for this request. */
  idTransport: SessionIdTransport<Res>;
  /** The request read the session's last flash messages (see {@link isEmptied}). */
  flashDrained = false;
  /** What the host keeps for the commit (see `SessionCommit.hostData`). */
  hostData: unknown = undefined;

  constructor(
    readonly engine: EngineServices<Res>,
    readonly req: SessionRequest,
    readonly res: Res | undefined,
    readonly next: NextFunction | undefined,
    readonly cookieOptions: CookieOptions,
    private readonly secrets: readonly SecretKey[],
    readonly cookieId?: string,
  ) {
    this.idTransport = engine.idTransport;
  }

  get storeTimeout(): number | undefined {
    return this.engine.options.storeTimeout;
  }

  get strict(): boolean {
    return this.engine.options.strictWrites;
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

  /** `req.session` and `req.sessionID` that create the session on first access. */
  defineLazySession(): void {
    this.lazy = true;
    // A request that inherits them (Express, see `inheritSessionAccessors`) reads this context.
    if (!inheritsSessionAccessors(this.req)) defineLazySession(this.req);
  }

  /** First access to the lazy session: create it (and hook the response while it still can be). */
  materialize(): void {
    this.lazy = false;
    const res = this.res;
    if (res !== undefined && this.engine.host.isOpen(res)) this.hook();
    this.generateSession();
  }

  /** Has the host arrange the commit (once). */
  hook(): void {
    if (this.hooked) return;
    this.hooked = true;
    this.engine.host.attach(this.res as Res, this);
  }

  /** Flash: the last waiting message was read (`req.flash(type)` / `req.flash()`). */
  onFlashDrained(): void {
    this.flashDrained = true;
  }

  /**
   * The session held nothing but flash messages and this request read the last of them: with
   * `saveUninitialized: false` it is not kept (empty sessions are never stored), so it is not
   * saved nor touched, the stored one is destroyed and the client's id cleared, exactly as if
   * the messages had never been put there.
   */
  isEmptied(session: RequestSession | null | undefined): boolean {
    return (
      this.flashDrained &&
      !!session &&
      !this.engine.options.saveUninitialized &&
      this.fingerprintOf(session) === EMPTY_FINGERPRINT
    );
  }

  /** The emptied session is the one the client sent (stored): it is to be destroyed. */
  private emptiedStored(session: RequestSession | null | undefined): boolean {
    return this.isEmptied(session) && this.loadedFromStore && this.req.sessionID === this.cookieId;
  }

  // --- SessionLifecycle: what the session's methods report ---

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
    if (session === this.req.session) this.refused = false;
    const created = !isStoredSession(session) && session.id !== this.createdId;
    if (created) {
      this.createdId = session.id;
      this.engine.emit('created', { sessionId: session.id, req: this.req });
    }
    this.engine.emit('saved', { sessionId: session.id, req: this.req, created });
    this.indexUser(session);
  }

  onSaveRefused(session: RequestSession): void {
    if (session === this.req.session) this.refused = true;
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
    if (maxSize && Buffer.byteLength(hash) > maxSize) {
      throw new SessionDataError(`Session data exceeds the maximum size of ${maxSize} bytes`);
    }
    this.savedHash = hash;
    this.savedId = session.id;
  }

  // --- DecisionState ---

  /** The session's fingerprint, computed once per decision (the rules ask for it several times). */
  fingerprintOf(session: RequestSession): string {
    const memo = this.memo;
    if (memo.on && memo.session === session) return memo.value;
    const value = fingerprint(session);
    if (memo.on) {
      memo.session = session;
      memo.value = value;
    }
    return value;
  }

  canSend(session: RequestSession): boolean {
    return this.idTransport.canSend(this.req, session);
  }

  // --- SessionCommit: the steps a host runs ---

  deciding<T>(decide: () => T): T {
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

  shouldDestroy(): boolean {
    const req = this.req;
    return (
      shouldDestroy(this, req.sessionID, req.session, this.engine.options) ||
      this.emptiedStored(req.session)
    );
  }

  touchedSession(): RequestSession | undefined {
    const session = this.req.session;
    if (!session) return undefined;
    if (!this.touched) {
      session.touch();
      this.touched = true;
    }
    return session;
  }

  sendId(throwErrors: boolean): void {
    if (this.idDecided) return;
    this.idDecided = true;
    const o = this.engine.options;
    const session = this.req.session;
    const res = this.res as Res;
    if (session && this.emptiedStored(session)) {
      const { domain, path, secure, sameSite, partitioned } = session.cookie;
      this.destroyedCookie = { domain, path, secure, sameSite, partitioned };
    }
    if (!session || this.isEmptied(session)) {
      if (this.destroyedCookie && o.clearCookieOnDestroy) {
        this.idTransport.clear(res, this.destroyedCookie);
      }
      return;
    }
    try {
      if (isFailedResponse(this.engine.host.statusCode(res), o)) return;
      const id = this.req.sessionID;
      if (!shouldSendId(this, session, id, o) || !this.canSend(session)) return;
      if (!this.touched) {
        session.touch();
        this.touched = true;
      }
      this.idTransport.send(res, id as string, session, this.secrets[0] as SecretKey);
      this.idSent = true;
    } catch (err) {
      if (throwErrors) throw err;
      this.reportLate(err);
    }
  }

  storeAction(session: RequestSession): StoreAction {
    const o = this.engine.options;
    const res = this.res as Res;
    const host = this.engine.host;
    if (isFailedResponse(host.statusCode(res), o) || this.isEmptied(session)) return undefined;
    const id = this.req.sessionID;
    if (shouldSave(this, session, id, o)) {
      return isOrphan(this, session, id, o, !host.isOpen(res)) ? undefined : 'save';
    }
    const engine = this.engine;
    return shouldTouch(this, session, id, o, engine.storeImplementsTouch, engine.recentTouches)
      ? 'touch'
      : undefined;
  }

  /** `unset: 'destroy'`: removes the session that was taken off the request. */
  destroy(callback: (err?: unknown) => void): void {
    const sid = this.req.sessionID as string;
    const o = this.engine.options;
    callStore(o.store, 'destroy', [sid], o.storeTimeout, (err) => {
      if (err) this.onStoreError('destroy', sid, err);
      else this.engine.emit('destroyed', { sessionId: sid, req: this.req });
      callback(err);
    });
  }

  save(session: RequestSession, callback: (err?: unknown) => void): void {
    session.save(callback);
  }

  /** Refreshes the store's expiry of an unchanged session. */
  touch(session: RequestSession, callback: (err?: unknown) => void): void {
    const sid = this.req.sessionID as string;
    const o = this.engine.options;
    const expires = session.cookie.expires;
    const recent = this.engine.recentTouches;
    const at = o.touchAfter > 0 && expires instanceof Date ? expires.getTime() : NaN;
    if (!Number.isNaN(at)) recent.set(sid, at);
    callStore(o.store, 'touch', [sid, session], o.storeTimeout, (err, touched) => {
      if (err) {
        // Not extended after all: the next request touches it again.
        if (recent.get(sid) === at) recent.delete(sid);
        this.onStoreError('touch', sid, err);
      } else if (touched === false) this.refused = true;
      else this.indexUser(session);
      callback(err);
    });
  }

  storeRefused(): boolean {
    return this.refused;
  }

  withdrawId(): void {
    if (this.idSent) this.idTransport.withdraw?.(this.res as Res);
  }

  reportLate(err: unknown): void {
    const onError = this.engine.options.onError;
    if (onError) onError(err, this.req);
    else if (this.next) setImmediate(this.next, err);
  }

  reportStrict(err: unknown): void {
    const onError = this.engine.options.onError;
    if (onError) onError(err, this.req);
    else console.error('nest-session:', err);
  }
}
