import type { ServerResponse } from 'node:http';
import type { SessionCommit } from '../transport';
import {
  type Callback,
  type Chunk,
  type EndFunction,
  type WriteFunction,
  endWith,
} from './response-types';

/**
 * express-session's end: start the store operation, flush the headers and all but the end of
 * the body, and finish the response when the store answers. Store errors are reported after
 * (`onError`, else `next(err)`).
 */
export function endCompatible(
  commit: SessionCommit,
  res: ServerResponse,
  originalEnd: EndFunction,
  originalWrite: WriteFunction,
  chunk: Chunk,
  encoding: BufferEncoding | undefined,
  callback: Callback,
): unknown {
  let pending = true;
  let ret: unknown;

  const writeEnd = (): void => {
    if (pending) {
      ret = endWith(res, originalEnd, chunk, encoding, callback);
      pending = false;
    } else if (callback) {
      originalEnd.call(res, callback);
    } else {
      originalEnd.call(res);
    }
  };
  const answered = (err?: unknown): void => {
    if (err) commit.reportLate(err);
    writeEnd();
  };
  const writeTop = (): unknown => {
    if (!pending) return ret;
    if (!res.headersSent) res.writeHead(res.statusCode);
    if (chunk == null) {
      ret = true;
      return ret;
    }
    const contentLength = Number(res.getHeader('Content-Length'));
    if (!Number.isNaN(contentLength) && contentLength > 0) {
      // Hold the last byte back: with a fixed length the client would see a complete
      // response (and send its next request) before the store write finished.
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding);
      encoding = undefined;
      if (buffer.length !== 0) {
        ret = originalWrite.call(res, buffer.subarray(0, buffer.length - 1));
        chunk = buffer.subarray(buffer.length - 1);
        return ret;
      }
      chunk = buffer;
    }
    ret = originalWrite.call(res, chunk, encoding);
    pending = false;
    return ret;
  };

  let started = false;
  try {
    if (commit.shouldDestroy()) {
      started = true;
      commit.destroy(answered);
      return writeTop();
    }
    const session = commit.touchedSession();
    if (!session) return endWith(res, originalEnd, chunk, encoding, callback);
    const action = commit.storeAction(session);
    if (action === 'save') {
      started = true;
      commit.save(session, answered);
      return writeTop();
    }
    if (action === 'touch') {
      started = true;
      commit.touch(session, answered);
      return writeTop();
    }
  } catch (err) {
    if (started) throw err;
    commit.reportLate(err);
  }
  return endWith(res, originalEnd, chunk, encoding, callback);
}
