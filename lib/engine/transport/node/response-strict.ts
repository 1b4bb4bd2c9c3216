import type { ServerResponse } from 'node:http';
import { BODY_HEADERS, asDataError, strictFailure } from '../strict-failure';
import type { SessionCommit } from '../transport';
import { type Callback, type Chunk, type EndFunction, endWith } from './response-types';

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
  const fail = (err: unknown): void => {
    withdrawId();
    commit.reportStrict(err);
    sendError(res, originalEnd, err, callback);
  };
  const afterWrite = (err?: unknown): void => {
    if (!err) succeed();
    else fail(err);
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
    fail(asDataError(err));
    return res;
  }
  return succeed();
}

/** Replaces the response that was about to go out with a JSON error (headers not yet sent). */
function sendError(
  res: ServerResponse,
  originalEnd: EndFunction,
  err: unknown,
  callback: Callback,
): void {
  const failure = strictFailure(err);
  for (const name of BODY_HEADERS) res.removeHeader(name);
  res.statusCode = failure.status;
  for (const [name, value] of failure.headers) res.setHeader(name, value);
  endWith(res, originalEnd, failure.body, 'utf8', callback);
}
