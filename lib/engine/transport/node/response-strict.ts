import type { ServerResponse } from 'node:http';
import { SessionDataError } from '../../session-data-error';
import type { SessionCommit } from '../transport';
import { type Callback, type Chunk, type EndFunction, endWith } from './response-types';

/** A store error (as opposed to bad session data) in strict mode: answered with 503. */
const STORE_UNAVAILABLE = 503;
const UNSERIALIZABLE = 500;

/** Headers of the replaced response that would describe the wrong body. */
const BODY_HEADERS = [
  'Content-Length',
  'Content-Type',
  'Content-Encoding',
  'ETag',
  'Last-Modified',
];

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Strict mode (`strictWrites`): the id is decided and the store written before anything is
 * sent; a failed write turns the response into a clear error, so a response that completed
 * normally means the write is in the store.
 */
export function endStrict(
  commit: SessionCommit,
  res: ServerResponse,
  originalEnd: EndFunction,
  chunk: Chunk,
  encoding: BufferEncoding | undefined,
  callback: Callback,
): unknown {
  const previousCookies = res.getHeader('Set-Cookie');
  /** Takes back the session's `Set-Cookie` (the response's other cookies stay), or its header. */
  const withdrawId = (): void => {
    if (previousCookies === undefined) res.removeHeader('Set-Cookie');
    else res.setHeader('Set-Cookie', previousCookies);
    commit.withdrawId();
  };
  const succeed = (): unknown => {
    // A session destroyed meanwhile (logout while this request ran): no live cookie goes back.
    if (commit.storeRefused()) withdrawId();
    return endWith(res, originalEnd, chunk, encoding, callback);
  };
  const fail = (err: unknown, status: number): void => {
    withdrawId();
    commit.reportStrict(err);
    sendError(res, originalEnd, status, err, callback);
  };
  const afterWrite = (err?: unknown): void => {
    if (!err) succeed();
    else fail(err, err instanceof SessionDataError ? UNSERIALIZABLE : STORE_UNAVAILABLE);
  };

  let started = false;
  try {
    if (commit.shouldDestroy()) {
      started = true;
      commit.destroy(afterWrite);
      return res;
    }
    const session = commit.touchedSession();
    if (!session) return succeed();
    commit.sendId(true);
    const action = commit.storeAction(session);
    if (action === 'save') {
      started = true;
      commit.save(session, afterWrite);
      return res;
    }
    if (action === 'touch') {
      started = true;
      // A failed touch only delays the sliding expiry: the data is intact, so the response stands.
      commit.touch(session, (err) => {
        if (err) commit.reportStrict(err);
        succeed();
      });
      return res;
    }
  } catch (err) {
    if (started) throw err;
    fail(
      err instanceof SessionDataError
        ? err
        : new SessionDataError(`Session data is not serializable: ${messageOf(err)}`, {
            cause: err,
          }),
      UNSERIALIZABLE,
    );
    return res;
  }
  return succeed();
}

/** Replaces the response that was about to go out with a JSON error (headers not yet sent). */
function sendError(
  res: ServerResponse,
  originalEnd: EndFunction,
  status: number,
  err: unknown,
  callback: Callback,
): void {
  const unavailable = status === STORE_UNAVAILABLE;
  const body = JSON.stringify({
    statusCode: status,
    message: unavailable
      ? 'Session store unavailable'
      : err instanceof SessionDataError
        ? err.message
        : 'Session data could not be saved',
    error: unavailable ? 'Service Unavailable' : 'Internal Server Error',
  });
  for (const name of BODY_HEADERS) res.removeHeader(name);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  if (unavailable) res.setHeader('Retry-After', '1');
  endWith(res, originalEnd, body, 'utf8', callback);
}
