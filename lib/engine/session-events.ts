import type { SessionRequest } from './session';

/** What each session lifecycle event carries. */
export interface SessionEventMap {
  /** A new session was stored for the first time. */
  created: { sessionId: string; req: SessionRequest };
  /** A session was read from the store for a request. */
  loaded: { sessionId: string; req: SessionRequest };
  /** A session was written to the store (`created` tells whether it was new). */
  saved: { sessionId: string; req: SessionRequest; created: boolean };
  /** A session was replaced by a new one (new id), e.g. on login. */
  regenerated: { previousId: string; sessionId: string; req: SessionRequest };
  /** A session was removed from the store (`destroy()`, or `unset: 'destroy'`). */
  destroyed: { sessionId: string; req: SessionRequest };
  /**
   * A session ended by expiry: reported by the store (`source: 'store'`: RedisStore's keyspace
   * notifications with `expiryEvents`, MemoryStore's sweep and reads) or found expired by the
   * engine when a request loaded it (`source: 'load'`, with that request).
   */
  expired: {
    sessionId: string;
    /**
     * The session's user (`userKey`), when known: from the store's per-user index, or from the
     * record the engine loaded. `undefined` without `userKey`, with `encryption` (the store's
     * index holds only an HMAC of the user) or when the index no longer knew the session.
     */
    userId: string | undefined;
    source: 'store' | 'load';
    /** The request that found it expired (`source: 'load'`); `undefined` from the store. */
    req: SessionRequest | undefined;
  };
  /** A store operation failed or timed out. */
  storeError: {
    operation: 'get' | 'set' | 'touch' | 'destroy';
    sessionId: string | undefined;
    error: unknown;
    req: SessionRequest;
  };
}

/** The names of the session lifecycle events. */
export type SessionEventName = keyof SessionEventMap;

/**
 * Typed hooks for the session lifecycle, for audit logs and metrics. A hook that throws is
 * reported (to `onError`) and never breaks the request.
 */
export type SessionEventHooks = {
  [K in SessionEventName]?: (event: SessionEventMap[K]) => void;
};

/**
 * The names under which the Nest module emits the events through `@nestjs/event-emitter`'s
 * `EventEmitter2`, when the application uses it.
 */
export const SESSION_EVENT_NAMES: { readonly [K in SessionEventName]: string } = {
  created: 'session.created',
  loaded: 'session.loaded',
  saved: 'session.saved',
  regenerated: 'session.regenerated',
  destroyed: 'session.destroyed',
  expired: 'session.expired',
  storeError: 'session.store-error',
};

/**
 * The event a store emits (as an EventEmitter) when one of its sessions expired, for the engine
 * to report as `expired`: `store.emit(STORE_EXPIRED_EVENT, { sessionId, userId? })`. Any store
 * may emit it; MemoryStore and RedisStore (with `expiryEvents`) do.
 */
export const STORE_EXPIRED_EVENT = 'expired';

/** What a store's {@link STORE_EXPIRED_EVENT} carries. */
export interface StoreExpiredEvent {
  /** The id of the session that expired. */
  sessionId: string;
  /** Its user, when the store's per-user index knew it. */
  userId?: string;
}

/**
 * Reports a store's {@link STORE_EXPIRED_EVENT}s as `expired` events through `emit`. With
 * `encryption` the user is left out: the store's index holds an HMAC of it, not the user.
 * @internal
 */
export function forwardStoreExpiry(
  store: { on(event: string, listener: (...args: unknown[]) => void): unknown },
  encrypted: boolean,
  emit: (event: SessionEventMap['expired']) => void,
): void {
  store.on(STORE_EXPIRED_EVENT, (...args: unknown[]) => {
    const event = args[0] as Partial<StoreExpiredEvent> | undefined;
    if (!event || typeof event.sessionId !== 'string') return;
    const userId = !encrypted && typeof event.userId === 'string' ? event.userId : undefined;
    emit({ sessionId: event.sessionId, userId, source: 'store', req: undefined });
  });
}
