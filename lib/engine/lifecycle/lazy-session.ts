import { INHERITED_ACCESSORS, requestState } from '../request-state';
import type { RequestSession, SessionRequest } from '../session';

/** What the session accessors use of the request's context. @internal */
export interface LazySessionState {
  /** The session is still to be created on first access. */
  lazy: boolean;
  /** Values behind the accessors. */
  sessionSlot: RequestSession | null | undefined;
  sessionIdSlot: string | undefined;
  /** Creates the session (first access). */
  materialize(): void;
}

type Slot = 'sessionSlot' | 'sessionIdSlot';

// The accessors stay for the whole request and keep their values in the context: turning them
// back into data properties would reshape the request object (slow for everything after).
/** An accessor (built once, shared by every request) backed by one of the context's slots. */
function accessor(key: 'session' | 'sessionID', slot: Slot): PropertyDescriptor {
  return {
    configurable: true,
    enumerable: true,
    get(this: SessionRequest) {
      const context = requestState<LazySessionState>(this);
      if (context === undefined) return undefined;
      if (context.lazy) context.materialize();
      return context[slot];
    },
    set(this: SessionRequest, value: unknown) {
      const context = requestState<LazySessionState>(this);
      if (context === undefined) {
        // No session middleware handled this request (inherited accessor): a plain property.
        Object.defineProperty(this, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
        return;
      }
      context.lazy = false;
      (context as unknown as Record<Slot, unknown>)[slot] = value;
    },
  };
}

const SESSION = accessor('session', 'sessionSlot');
const SESSION_ID = accessor('sessionID', 'sessionIdSlot');

/**
 * Defines `req.session` and `req.sessionID` as accessors that create the session on first
 * access (`saveUninitialized: false` and no id sent: most requests never touch the session).
 * The request's state must be set first (`setRequestState`). `delete req.session` still removes
 * the session (it deletes the accessor).
 */
export function defineLazySession(req: SessionRequest): void {
  // Constant descriptors (no per-request closures): every request gets the same hidden-class
  // transition, so the request object stays fast for everything downstream.
  Object.defineProperty(req, 'session', SESSION);
  Object.defineProperty(req, 'sessionID', SESSION_ID);
}

/**
 * Puts the two accessors on an object requests inherit from (Express's `app.request`), once:
 * its requests then get neither as an own property (on Express each would cost a new hidden
 * class per request), and the engine keeps both values in the request's context. A request no
 * session middleware handled reads `undefined` and can still be given its own `session`.
 */
export function inheritSessionAccessors(proto: object): void {
  if (Object.prototype.hasOwnProperty.call(proto, INHERITED_ACCESSORS)) return;
  Object.defineProperty(proto, 'session', SESSION);
  Object.defineProperty(proto, 'sessionID', SESSION_ID);
  Object.defineProperty(proto, INHERITED_ACCESSORS, { value: true });
}
