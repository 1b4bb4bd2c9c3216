import type { SessionPatch } from './session-patch';

/**
 * Where the middleware keeps its per-request bookkeeping on `req` (a symbol: never serialized,
 * never clashes with user properties).
 * @internal
 */
export const SESSION_STATE = Symbol('nest-session.state');

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
   * long-lived holder, a socket, takes it as its new baseline for change detection).
   */
  afterReload?(session: S): void;
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
