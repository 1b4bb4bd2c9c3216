import type { ServerResponse } from 'node:http';
import { requestState } from '../../request-state';
import type { SessionCommit } from '../transport';
import { type WriteHeadFunction, writeHeadThrough } from './on-headers';
import { endCompatible } from './response-compatible';
import { endStrict } from './response-strict';
import type { Callback, Chunk, EndFunction, WriteFunction } from './response-types';

/**
 * One response's commit: the id decided and sent just before the headers are written, the
 * store written when `end` is called (strict or express-session compatible, see the two
 * strategies). Reached either through the response's own `writeHead`/`end` wrappers or through
 * an application's shared ones ({@link shareResponseHooks}).
 * @internal
 */
export class ResponseCommit {
  private headersSeen = false;
  private ended = false;

  constructor(
    private readonly commit: SessionCommit,
    /** The response it commits. */
    readonly res: ServerResponse,
    private readonly originalEnd: EndFunction,
    private readonly originalWrite: WriteFunction,
  ) {}

  /** `res.writeHead(...)`, with the id sent before the first head is written. */
  writeHead(
    res: ServerResponse,
    original: WriteHeadFunction,
    statusCode: number,
    rest: readonly unknown[],
  ): ServerResponse {
    if (this.headersSeen) return writeHeadThrough(res, original, statusCode, rest, undefined);
    this.headersSeen = true;
    return writeHeadThrough(res, original, statusCode, rest, this.beforeHeaders);
  }

  private readonly beforeHeaders = (): void => {
    const commit = this.commit;
    commit.deciding(() => commit.sendId(false));
  };

  /** `res.end(...)`, once: the commit, then the original `end`. */
  end(res: ServerResponse, chunk: unknown, encoding: unknown, callback: unknown): unknown {
    if (this.ended) return false;
    this.ended = true;
    if (typeof chunk === 'function') return this.finish(res, undefined, undefined, chunk);
    if (typeof encoding === 'function') return this.finish(res, chunk, undefined, encoding);
    return this.finish(res, chunk, encoding, callback);
  }

  private finish(res: ServerResponse, chunk: unknown, encoding: unknown, callback: unknown) {
    const commit = this.commit;
    return commit.deciding(() =>
      commit.strict && !res.headersSent
        ? endStrict(
            commit,
            res,
            this.originalEnd,
            chunk as Chunk,
            encoding as BufferEncoding,
            callback as Callback,
          )
        : endCompatible(
            commit,
            res,
            this.originalEnd,
            this.originalWrite,
            chunk as Chunk,
            encoding as BufferEncoding,
            callback as Callback,
          ),
    );
  }
}

/** Marks an object whose responses inherit the shared hooks: the object itself. */
const SHARED = Symbol('nest-session.shared-response-hooks');

type SharingResponse = ServerResponse & { [SHARED]?: object };

/** `end` or `writeHead` of the prototype above the shared hooks, looked up at call time. */
function above<K extends 'end' | 'writeHead'>(proto: object, key: K): ServerResponse[K] {
  return (Object.getPrototypeOf(proto) as ServerResponse)[key];
}

/**
 * The commit the shared hooks run for `res`: the one kept by its request's commit (the request's
 * state), when that one is for this very response.
 */
function sharedCommitOf(res: ServerResponse): ResponseCommit | undefined {
  const req = res.req as object | undefined;
  if (req === undefined) return undefined;
  const hooks = requestState<SessionCommit>(req)?.hostData;
  return hooks instanceof ResponseCommit && hooks.res === res ? hooks : undefined;
}

/**
 * Puts `writeHead` and `end` hooks on an object responses inherit from (Express's
 * `app.response`), once. A response the engine hooks then gets no wrapper of its own (on
 * Express each would cost a new hidden class per response, see `request-state.ts`): its commit
 * is kept by the request's commit (`SessionCommit.hostData`), where the shared hooks find it
 * through `res.req`; nothing is kept per response, not even a WeakMap entry (which would make
 * every scavenge dearer). Responses without a commit pass straight through to the methods above.
 * Equivalent to own wrappers installed first: a response that already has its own `end` or
 * `writeHead` when it is hooked (a middleware before the session wrapped them), or whose
 * request already has a commit (a second session middleware), still gets own wrappers, on top,
 * as before.
 * @internal
 */
export function shareResponseHooks(proto: object): void {
  if (Object.prototype.hasOwnProperty.call(proto, SHARED)) return;
  Object.defineProperty(proto, SHARED, { value: proto });
  Object.defineProperty(proto, 'writeHead', {
    configurable: true,
    writable: true,
    value: function writeHead(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
      const original = above(proto, 'writeHead') as WriteHeadFunction;
      const commit = sharedCommitOf(this);
      if (commit === undefined) return original.call(this, statusCode, ...rest);
      return commit.writeHead(this, original, statusCode, rest);
    },
  });
  Object.defineProperty(proto, 'end', {
    configurable: true,
    writable: true,
    value: function end(this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) {
      const commit = sharedCommitOf(this);
      if (commit === undefined) {
        return (above(proto, 'end') as EndFunction).call(this, chunk, encoding, cb);
      }
      return commit.end(this, chunk, encoding, cb);
    },
  });
}

/**
 * Arranges `commit` on `res`: kept for the shared hooks when `res` inherits them, has neither
 * method of its own and no other commit runs on it, else as own wrappers of `writeHead` and
 * `end`.
 * @internal
 */
export function hookResponse(res: ServerResponse, commit: SessionCommit): void {
  const proto = (res as SharingResponse)[SHARED];
  const own = Object.prototype.hasOwnProperty;
  if (
    proto !== undefined &&
    res.req !== undefined &&
    requestState(res.req) === commit &&
    commit.hostData === undefined &&
    !own.call(res, 'end') &&
    !own.call(res, 'writeHead')
  ) {
    const end = above(proto, 'end') as EndFunction;
    commit.hostData = new ResponseCommit(commit, res, end, res.write as WriteFunction);
    return;
  }
  const hooks = new ResponseCommit(
    commit,
    res,
    res.end as unknown as EndFunction,
    res.write as unknown as WriteFunction,
  );
  const originalWriteHead = res.writeHead as WriteHeadFunction;
  res.writeHead = function writeHead(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    return hooks.writeHead(this, originalWriteHead, statusCode, rest);
  } as ServerResponse['writeHead'];
  res.end = function end(this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) {
    return hooks.end(this, chunk, encoding, cb);
  } as unknown as ServerResponse['end'];
}
