import type { ServerResponse } from 'node:http';
import { SESSION_STATE } from '../../request-state';
import type { SessionRequest } from '../../session';
import type { StoreLike } from '../../store/store-like';
import type { SessionCommit, SessionHost } from '../transport';
import { onHeaders } from './on-headers';
import { endCompatible } from './response-compatible';
import { type Callback, type Chunk, type EndFunction, type WriteFunction } from './response-types';
import { endStrict } from './response-strict';

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
    (req as { [SESSION_STATE]?: object })[SESSION_STATE] = state;
  }

  /** Installs the header hook and the `res.end` wrapper. */
  attach(res: ServerResponse, commit: SessionCommit): void {
    onHeaders(res, () => commit.deciding(() => commit.sendId(false)));
    const originalEnd = res.end as unknown as EndFunction;
    const originalWrite = res.write as unknown as WriteFunction;
    let ended = false;
    const finish = (chunk: unknown, encoding: unknown, callback: unknown): unknown =>
      commit.deciding(() =>
        commit.strict && !res.headersSent
          ? endStrict(
              commit,
              res,
              originalEnd,
              chunk as Chunk,
              encoding as BufferEncoding,
              callback as Callback,
            )
          : endCompatible(
              commit,
              res,
              originalEnd,
              originalWrite,
              chunk as Chunk,
              encoding as BufferEncoding,
              callback as Callback,
            ),
      );
    res.end = function end(
      this: ServerResponse,
      chunk?: unknown,
      encoding?: unknown,
      callback?: unknown,
    ) {
      if (ended) return false;
      ended = true;
      if (typeof chunk === 'function') return finish(undefined, undefined, chunk);
      if (typeof encoding === 'function') return finish(chunk, undefined, encoding);
      return finish(chunk, encoding, callback);
    } as unknown as ServerResponse['end'];
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
