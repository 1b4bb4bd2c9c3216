import type { SessionPatch } from './session-patch';

/**
 * Where the middleware keeps its per-request bookkeeping on the request (a symbol: never
 * serialized, never clashes with user properties). Fastify's `FastifyRequest` declares it as an
 * accessor reading the raw request's.
 * @internal
 */
export const SESSION_STATE = Symbol('nest-session.state');

/**
 * The engine's per-request bookkeeping for `req` (its request context), or undefined when no
 * session middleware handled it.
 *
 * A property of the request, not a WeakMap entry: measured on the bench server, a WeakMap keyed
 * by requests (or responses) doubled the cost of every scavenge (V8 keeps ephemeron values of
 * young keys alive through a scavenge: 6.1 instead of 3.9 MB survived each, 8.9 instead of 4.4
 * ms). On Express this one property is the only one the session adds to a request (see
 * `inheritSessionAccessors`).
 * @internal
 */
export function requestState<T extends object>(req: object): T | undefined {
  return (req as { [SESSION_STATE]?: T })[SESSION_STATE];
}

/**
 * Marks an object whose requests inherit `session` and `sessionID` as accessors backed by the
 * request's state (see `inheritSessionAccessors`).
 * @internal
 */
export const INHERITED_ACCESSORS = Symbol('nest-session.inherited-accessors');

/** The request inherits the session accessors: their values live in its state, never on it. */
export function inheritsSessionAccessors(req: object): boolean {
  return (req as { [INHERITED_ACCESSORS]?: boolean })[INHERITED_ACCESSORS] === true;
}

/**
 * Removes `req.session` or `req.sessionID` (an inherited accessor is set to `undefined`: the
 * property stays, its value goes).
 * @internal
 */
export function unsetSessionProperty(
  req: { session?: unknown; sessionID?: unknown },
  key: 'session' | 'sessionID',
): void {
  if (inheritsSessionAccessors(req)) req[key] = undefined;
  else delete req[key];
}

/** Makes `state` the request's bookkeeping (replacing an earlier middleware's). @internal */
export function setRequestState(req: object, state: object): void {
  (req as { [SESSION_STATE]?: object })[SESSION_STATE] = state;
}

/**
 * What a session asks of the middleware that created it (`S`: the session type).
 * @internal
 */
export interface SessionLifecycle<S> {
  /** Per-operation store timeout in milliseconds (undefined: none). */
  readonly storeTimeout: number | undefined;
  /** Called before an explicit save of the request's current session: records what is being saved. */
  beforeSave(session: S): void;
  /** Called when the store confirmed the destroy of the request's session (`session.destroy()`). */
  onDestroy(session: S): void;
  /** Called when the store confirmed a save of one of the request's sessions. */
  afterSave(session: S): void;
  /**
   * Called when the store refused a save of a session read from it because that session no
   * longer exists (destroyed meanwhile: logout in another tab). Nothing was written.
   */
  onSaveRefused(session: S): void;
  /**
   * Optional: called after `reload()` put a fresh copy of the session on the request (a
   * long-lived holder, a socket, takes it as its new baseline for change detection), or with
   * `undefined` when the store no longer has the session (destroyed, expired).
   */
  afterReload?(session: S | undefined): void;
  /** Called after `regenerate()` replaced the session `previousId` by a new one. */
  afterRegenerate(previousId: string): void;
  /** Called when a store operation made on behalf of the request failed. */
  onStoreError(
    operation: 'get' | 'set' | 'touch' | 'destroy',
    sessionId: string | undefined,
    error: unknown,
  ): void;
  /**
   * With `concurrency: 'merge'`, the patch to write instead of the whole session (undefined:
   * write it whole).
   */
  patchFor(session: S): SessionPatch | undefined;
  /** What a failed store operation rejects a session method with (`mapStoreError`). */
  mapStoreError(err: unknown): unknown;
  /** Creates a new session (new id, data and cookie) on the request. */
  generate(): void;
  /** True when the session was loaded from the store for this request (not created by it). */
  readonly loadedFromStore: boolean;
}
