import type {
  IncomingMessage,
  OutgoingHttpHeader,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import type { FastifyReply } from 'fastify';
import { NodeResponseHost } from '../engine/transport/node/node-host';
import { BODY_HEADERS, asDataError, strictFailure } from '../engine/transport/strict-failure';
import type { SessionCommit, SessionHost } from '../engine/transport/transport';
import type { SessionRequest } from '../engine/session';
import type { StoreLike } from '../engine/store/store-like';

/** A commit arranged on a raw response, waiting for the reply's `onSend`. */
interface PendingCommit {
  readonly commit: SessionCommit;
  /** The response's own `writeHead` and `end`, before the fallback wrapped them. */
  readonly writeHead: ServerResponse['writeHead'];
  readonly end: ServerResponse['end'];
}

const PENDING = Symbol('nest-session.fastify.pending');
/** Set while `onSend` writes the store: the reply is being sent. */
const COMMITTING = Symbol('nest-session.fastify.committing');

type PendingResponse = ServerResponse & {
  [PENDING]?: PendingCommit | undefined;
  [COMMITTING]?: boolean;
};

/** What an `onSend` hook hands on: the payload, or an error. */
export type OnSendDone = (err: Error | null, payload?: unknown) => void;

/**
 * Seam (b) for Fastify. The session lives on the raw request (`request.raw`), where Nest
 * middleware (run by middie on the raw objects) and the engine find it; `FastifyRequest` reads
 * it there through accessors (see `decorateSessionRequest`). The commit runs in the reply's
 * `onSend` hook ({@link commitOnSend}), while Fastify still holds the status, headers and
 * payload: the id goes into the reply's headers and, in strict mode, a failed write replaces the
 * payload by the 503/500 answer. `reply.send`, `reply.redirect`, streams, `@Res()` and Nest's
 * exception filters all pass there.
 *
 * A response written without Fastify's `send` (`reply.hijack()` then `reply.raw`, or Nest
 * answering an exception thrown by a middleware on the raw response) never reaches `onSend`:
 * for those the Node response host's wrappers of `writeHead`/`end` are installed too, and
 * `onSend` takes them off again before Fastify writes, so a response is committed exactly once.
 */
export class FastifySessionHost implements SessionHost<ServerResponse> {
  private readonly node = new NodeResponseHost();

  /**
   * Sets `req.sessionStore` and the engine's state (as the Node host does), and `req.secure`
   * from the protocol Fastify determined (its `trustProxy`, as Express's `trust proxy`), which
   * middie copies onto the raw request.
   */
  expose(req: SessionRequest, store: StoreLike, state: object): void {
    this.node.expose(req, store, state);
    if (req.secure === undefined) {
      const protocol = (req as { protocol?: unknown }).protocol;
      if (typeof protocol === 'string') req.secure = protocol === 'https';
    }
  }

  /**
   * Leaves the commit to `onSend`, with the Node host's wrappers for raw responses. Links the
   * raw request to its response as Express does (`req.res`), for what answers a store failure
   * met by a session method (`Retry-After`).
   */
  attach(res: ServerResponse, commit: SessionCommit): void {
    const req = res.req as (IncomingMessage & { res?: ServerResponse }) | undefined;
    if (req !== undefined && req.res === undefined) req.res = res;
    const pending: PendingCommit = { commit, writeHead: res.writeHead, end: res.end };
    this.node.attach(res, commit);
    (res as PendingResponse)[PENDING] = pending;
  }

  /** The headers are not sent yet. */
  isOpen(res: ServerResponse): boolean {
    return !res.headersSent;
  }

  /** The status code (`reply.code()` sets it on the raw response). */
  statusCode(res: ServerResponse): number {
    return res.statusCode;
  }
}

/**
 * The `onSend` hook: runs the request's commit, if one is arranged and the response is still
 * Fastify's to write, then hands the payload (or the strict-mode error answer) on.
 */
export function commitOnSend(reply: FastifyReply, payload: unknown, done: OnSendDone): void {
  const res = reply.raw as PendingResponse;
  // A second `reply.send` while the first one waits for the store. Fastify sends again when an
  // async handler resolves before the reply is written (`reply.sent` stays false until then):
  // Nest's `@Redirect()` handler does, like every handler that sends without returning the reply.
  // With synchronous hooks the first send would have ended the response and Fastify would drop
  // the second; it is dropped here too (its hook chain is never resumed), so the response is
  // written once, with the first payload.
  if (res[COMMITTING] === true) return;
  const pending = res[PENDING];
  if (pending === undefined) return done(null, payload);
  res[PENDING] = undefined;
  // Headers already written on the raw response: the Node wrappers commit at its end.
  if (res.headersSent) return done(null, payload);
  res.writeHead = pending.writeHead;
  res.end = pending.end;
  const commit = pending.commit;
  res[COMMITTING] = true;
  const release: OnSendDone = (err, result) => {
    res[COMMITTING] = false;
    done(err, result);
  };
  commit.deciding(() => runCommit(commit, reply, payload, release));
}

/** The commit's steps (see `SessionCommit`), in strict mode's order, the payload held meanwhile. */
function runCommit(
  commit: SessionCommit,
  reply: FastifyReply,
  payload: unknown,
  done: OnSendDone,
): void {
  const strict = commit.strict;
  /** What step 3 changed in the reply's headers: each name with its value before. */
  const moved: [name: string, before: unknown][] = [];
  /** Takes back what step 3 put on the reply (the reply's other cookies and headers stay). */
  const withdrawId = (): void => {
    for (const [name, before] of moved) {
      reply.removeHeader(name);
      if (before !== undefined) reply.header(name, before);
    }
    commit.withdrawId();
  };
  const finish = (): void => {
    sendId(commit, reply, false, moved);
    done(null, payload);
  };
  const succeed = (): void => {
    // A session destroyed meanwhile (logout while this request ran): no live cookie goes back.
    if (strict && commit.storeRefused()) withdrawId();
    finish();
  };
  const fail = (err: unknown): void => {
    withdrawId();
    commit.reportStrict(err);
    payload = replaceWithFailure(reply, payload, err);
    finish();
  };
  const afterWrite = (err?: unknown): void => {
    if (!err) succeed();
    else if (strict) fail(err);
    else {
      commit.reportLate(err);
      succeed();
    }
  };

  let started = false;
  try {
    if (commit.shouldDestroy()) {
      started = true;
      commit.destroy(afterWrite);
      return;
    }
    const session = commit.touchedSession();
    if (!session) return succeed();
    sendId(commit, reply, strict, moved);
    const action = commit.storeAction(session);
    if (action === 'save') {
      started = true;
      commit.save(session, afterWrite);
      return;
    }
    if (action === 'touch') {
      started = true;
      // A failed touch only delays the sliding expiry: the data is intact, so the response stands.
      commit.touch(session, (err) => {
        if (err) {
          if (strict) commit.reportStrict(err);
          else commit.reportLate(err);
        }
        succeed();
      });
      return;
    }
  } catch (err) {
    if (started) return done(err instanceof Error ? err : new Error(String(err)));
    if (strict) return fail(asDataError(err));
    commit.reportLate(err);
  }
  succeed();
}

/**
 * Step 3 with the reply as its target: the id transport writes on the raw response (it knows
 * only Node's: a `Set-Cookie` line, or the header transport's header), and what it wrote moves
 * into the reply's headers, which Fastify writes over the raw ones (`Set-Cookie` lines are
 * appended after the reply's own, `@fastify/cookie`'s included). `moved` records each changed
 * reply header with its value before, for a withdrawal.
 */
function sendId(
  commit: SessionCommit,
  reply: FastifyReply,
  throwErrors: boolean,
  moved: [name: string, before: unknown][],
): void {
  const res = reply.raw;
  // Usually the raw response has no header yet (Fastify keeps them in the reply until it
  // writes): then every raw header after step 3 is one step 3 wrote, and nothing need be copied.
  const before: OutgoingHttpHeaders = res.getHeaderNames().length === 0 ? {} : res.getHeaders();
  const replyBefore = reply.getHeaders();
  commit.sendId(throwErrors);
  for (const name of res.getHeaderNames()) {
    const now = res.getHeader(name);
    const was = before[name];
    if (now === was) continue;
    moved.push([name, copyOf(replyBefore[name])]);
    if (name === 'set-cookie') {
      reply.header(name, linesOf(now).slice(linesOf(was).length));
    } else {
      reply.header(name, now);
    }
    if (was === undefined) res.removeHeader(name);
    else res.setHeader(name, was);
  }
}

function linesOf(value: OutgoingHttpHeader | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [String(value)];
}

/** A header value as it is now (Fastify appends `Set-Cookie` lines to its array in place). */
function copyOf(value: unknown): unknown {
  return Array.isArray(value) ? [...(value as unknown[])] : value;
}

/** Strict mode's answer to a failed write, in place of the reply's payload. */
function replaceWithFailure(reply: FastifyReply, payload: unknown, err: unknown): string {
  const stream = payload as { destroy?: () => void } | null;
  if (stream && typeof stream.destroy === 'function') stream.destroy();
  const failure = strictFailure(err);
  for (const name of BODY_HEADERS) {
    reply.removeHeader(name);
    reply.raw.removeHeader(name);
  }
  reply.code(failure.status);
  for (const [name, value] of failure.headers) reply.header(name, value);
  return failure.body;
}
