import { SESSION_STATE } from '../request-state';
import type { RequestSession, SessionRequest } from '../session';

/** What the lazy accessors use of the request's context. @internal */
export interface LazySessionState {
  /** The session is still to be created on first access. */
  lazy: boolean;
  /** Values behind the accessors. */
  sessionSlot: RequestSession | null | undefined;
  sessionIdSlot: string | undefined;
  /** Creates the session (first access). */
  materialize(): void;
}

type LazyRequest = SessionRequest & { [SESSION_STATE]?: LazySessionState };

function stateOf(req: LazyRequest): LazySessionState {
  return req[SESSION_STATE] as LazySessionState;
}

// The lazy accessors stay for the whole request and keep their values in the context: turning
// them back into data properties would reshape the request object (slow for everything after).
// `delete req.session` still removes the session (it deletes the accessor).
/** An accessor (built once, shared by every request) backed by one of the context's slots. */
function lazyAccessor(slot: 'sessionSlot' | 'sessionIdSlot'): PropertyDescriptor {
  return {
    configurable: true,
    enumerable: true,
    get(this: LazyRequest) {
      const context = stateOf(this);
      if (context.lazy) context.materialize();
      return context[slot];
    },
    set(this: LazyRequest, value: unknown) {
      const context = stateOf(this);
      context.lazy = false;
      (context as unknown as { [K in typeof slot]: unknown })[slot] = value;
    },
  };
}

const LAZY_SESSION = lazyAccessor('sessionSlot');
const LAZY_SESSION_ID = lazyAccessor('sessionIdSlot');

/**
 * Defines `req.session` and `req.sessionID` as accessors that create the session on first
 * access (`saveUninitialized: false` and no id sent: most requests never touch the session).
 * The request's state (under {@link SESSION_STATE}) must be exposed first.
 */
export function defineLazySession(req: SessionRequest): void {
  // Constant descriptors (no per-request closures): every request gets the same hidden-class
  // transition, so the request object stays fast for everything downstream.
  Object.defineProperty(req, 'session', LAZY_SESSION);
  Object.defineProperty(req, 'sessionID', LAZY_SESSION_ID);
}
