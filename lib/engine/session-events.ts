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
  storeError: 'session.store-error',
};
