import type { SessionPatch } from './session-patch';

/** Each request's per-request bookkeeping, by request (see {@link requestState}). */
const states = new WeakMap<object, object>();

/**
 * The property through which an object standing for a request (Fastify's `FastifyRequest`, which
 * wraps the Node request the engine works on) reaches that request's state.
 * @internal
 */
export const STATE_OF = Symbol('nest-session.state-of');

/**
 * The engine's per-request bookkeeping for `req` (its request context), or undefined when no
 * session middleware handled it.
 *
 * Kept in a WeakMap, not on the request: on Express every request object has a hidden class
 * (V8 map) of its own, so each property added to one allocates a new map and a copy of its
 * descriptors (measured: about 1 KB and several µs per property per request). A WeakMap entry
 * costs neither, and lives exactly as long as the request.
 * @internal
 */
export function requestState<T extends object>(req: object): T | undefined {
  return (states.get(req) ?? (req as { [STATE_OF]?: object })[STATE_OF]) as T | undefined;
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
  states.set(req, state);
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
