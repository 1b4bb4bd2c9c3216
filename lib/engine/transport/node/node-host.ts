import type { ServerResponse } from 'node:http';
import { requestState, setRequestState } from '../../request-state';
import type { SessionRequest } from '../../session';
import type { StoreLike } from '../../store/store-like';
import type { SessionCommit, SessionHost } from '../transport';
import { hookResponse } from './response-hooks';

/**
 * Seam (b), first implementation: the session on the Node request (`req.session`,
 * `req.sessionID`, `req.sessionStore`), committed by wrapping the `ServerResponse`: the id is
 * decided and sent just before the headers are written (`writeHead`, which Node's implicit
 * headers go through too), and the store is written when `end` is called, with one of two
 * strategies: strict (`strictWrites` and headers not yet sent: the write finishes before
 * anything goes out, a failure becomes a 503/500) or express-session compatible (send the
 * response but its last byte, finish it when the store answered).
 */
export class NodeResponseHost implements SessionHost<ServerResponse> {
  /**
   * Sets `req.sessionStore` (unless the request already inherits this store: see the Nest
   * module's Express install) and the engine's state symbol.
   */
  expose(req: SessionRequest, store: StoreLike, state: object): void {
    if (req.sessionStore !== store) req.sessionStore = store;
    const previous = requestState<SessionCommit>(req);
    setRequestState(req, state);
    // A second session middleware on the request: the first one's shared response hooks stay
    // reachable (see `hookResponse`), and this one wraps the response itself.
    if (previous?.hostData !== undefined) (state as SessionCommit).hostData = previous.hostData;
  }

  /**
   * Arranges the commit on the response: the header hook and the `end` hook (the response's own
   * wrappers, or the application's shared ones: see `hookResponse`).
   */
  attach(res: ServerResponse, commit: SessionCommit): void {
    hookResponse(res, commit);
  }

  /** The headers are not sent yet. */
  isOpen(res: ServerResponse): boolean {
    return !res.headersSent;
  }

  /** `res.statusCode`. */
  statusCode(res: ServerResponse): number {
    return res.statusCode;
  }
}
