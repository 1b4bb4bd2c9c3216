/**
 * The decisions taken at the end of a request (save? touch? send the id? destroy?), as pure
 * functions of the request's state: express-session 1.19's rules, plus `savedId` so that a
 * regenerated session saved explicitly is not written twice, `touchAfter`, and the orphan rule.
 * No I/O and no HTTP: the transports report what happened, these functions say what to do.
 */
import type { RequestSession } from '../session';
import type { ResolvedSessionOptions } from '../session-options';

/** What the decisions read about a request (the request's context implements it). */
export interface DecisionState {
  /** The id the client sent (verified), or `undefined`. */
  readonly cookieId?: string | undefined;
  /** The id the session had when the request got it (loaded or created). */
  readonly originalId: string | undefined;
  /** The fingerprint of the session when the request got it. */
  readonly originalHash: string | undefined;
  /** The id last written to the store during this request (or loaded, without `resave`). */
  readonly savedId: string | undefined;
  /** The fingerprint last written to the store during this request (or loaded, without `resave`). */
  readonly savedHash: string | undefined;
  /** The client's id was signed with an older secret (and `resignCookies` is on). */
  readonly resign: boolean;
  /** Loading the session failed (the request has none because the store failed). */
  readonly loadFailed: boolean;
  /** The stored expiry (epoch ms) of the loaded session; `NaN` when unknown. */
  readonly loadedExpires: number;
  /**
   * The store refreshed the expiry in the read itself (`getAndTouch`): this request's touch is
   * done unless the expiry moved on by more than the margin since.
   */
  readonly refreshedAtLoad: boolean;
  /** Whether the send-the-id decision was taken (it is taken once, before the headers). */
  readonly idDecided: boolean;
  /** Whether the id was sent back on this response. */
  readonly idSent: boolean;
  /** The session's fingerprint (see `fingerprint`), memoized during a decision. */
  fingerprintOf(session: RequestSession): string;
  /** Whether the transport may send the id on this request (see `SessionIdTransport.canSend`). */
  canSend(session: RequestSession): boolean;
}

/** The options the decisions read. */
export type DecisionOptions = Pick<
  ResolvedSessionOptions,
  'saveUninitialized' | 'rolling' | 'unset' | 'touchAfter' | 'saveOnServerError'
>;

/** The session changed since the request got it (another id, or other data). */
export function isModified(state: DecisionState, session: RequestSession): boolean {
  return state.originalId !== session.id || state.originalHash !== state.fingerprintOf(session);
}

/** The store already holds the session as it is now. */
export function isSaved(state: DecisionState, session: RequestSession): boolean {
  return state.savedId === session.id && state.savedHash === state.fingerprintOf(session);
}

/** The session is to be written at the end of the request. */
export function shouldSave(
  state: DecisionState,
  session: RequestSession,
  sessionId: string | undefined,
  options: DecisionOptions,
): boolean {
  if (typeof sessionId !== 'string') return false;
  return !options.saveUninitialized && !state.savedHash && state.cookieId !== sessionId
    ? isModified(state, session)
    : !isSaved(state, session);
}

/** A 5xx answer whose session changes are not to be kept (`saveOnServerError: false`). */
export function isFailedResponse(statusCode: number, options: DecisionOptions): boolean {
  return !options.saveOnServerError && statusCode >= 500;
}

/**
 * When the session is not saved: refresh the store's expiry? Only for the session the client
 * sent, a store with `touch`, and (with `touchAfter`) when the new expiry is at least the margin
 * later than the stored one and than the one a recent touch of this process set.
 */
export function shouldTouch(
  state: DecisionState,
  session: RequestSession,
  sessionId: string | undefined,
  options: DecisionOptions,
  storeImplementsTouch: boolean,
  recentTouches: { get(id: string): number | undefined },
): boolean {
  if (!storeImplementsTouch || typeof sessionId !== 'string' || state.cookieId !== sessionId) {
    return false;
  }
  const touchAfter = options.touchAfter;
  if (!state.refreshedAtLoad && (touchAfter === 0 || Number.isNaN(state.loadedExpires))) {
    return true;
  }
  const expires = session.cookie.expires;
  if (!(expires instanceof Date)) return !state.refreshedAtLoad;
  const margin = touchMargin(touchAfter, session.cookie.originalMaxAge, state.refreshedAtLoad);
  const at = expires.getTime();
  if (at - state.loadedExpires < margin) return false;
  // Read before another request of this process touched it (or while that touch is on its way).
  const recent = recentTouches.get(sessionId);
  return recent === undefined || at - recent >= margin;
}

/**
 * The least a touch must move the expiry by: `touchAfter`, at most a tenth of the lifetime, and
 * with a refresh in the read at least {@link READ_REFRESH_SLACK} (so `touchAfter: 0` costs no
 * second command for the milliseconds the request took).
 */
export function touchMargin(touchAfter: number, maxAge: unknown, refreshedAtLoad: boolean): number {
  const margin = typeof maxAge === 'number' ? Math.min(touchAfter, maxAge / 10) : touchAfter;
  return refreshedAtLoad ? Math.max(margin, READ_REFRESH_SLACK) : margin;
}

/** How far a refresh in the read may lag the request's own expiry (ms). */
export const READ_REFRESH_SLACK = 1000;

/** `unset: 'destroy'` and the handler removed the session (not for a failed load). */
export function shouldDestroy(
  state: DecisionState,
  sessionId: string | undefined,
  session: RequestSession | null | undefined,
  options: DecisionOptions,
): boolean {
  return Boolean(sessionId) && options.unset === 'destroy' && session == null && !state.loadFailed;
}

/** The id is to be sent back (express-session's `shouldSetCookie`). */
export function shouldSendId(
  state: DecisionState,
  session: RequestSession,
  sessionId: string | undefined,
  options: DecisionOptions,
): boolean {
  if (typeof sessionId !== 'string') return false;
  return state.cookieId !== sessionId
    ? options.saveUninitialized || isModified(state, session)
    : options.rolling ||
        state.resign ||
        (session.cookie.expires != null && isModified(state, session));
}

/**
 * A session that did not come from the client and whose id is not (or will not be) sent back:
 * storing it would leave a record nobody can ever use. `responseStarted`: the response's
 * headers are already out.
 */
export function isOrphan(
  state: DecisionState,
  session: RequestSession,
  sessionId: string | undefined,
  options: DecisionOptions,
  responseStarted: boolean,
): boolean {
  if (state.cookieId === sessionId) return false;
  if (responseStarted || state.idDecided) return !state.idSent;
  return !(shouldSendId(state, session, sessionId, options) && state.canSend(session));
}
