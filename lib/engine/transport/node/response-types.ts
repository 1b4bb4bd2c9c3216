import type { ServerResponse } from 'node:http';

/** `res.end` as the strategies call it. */
export type EndFunction = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
/** `res.write` as the compatible strategy calls it. */
export type WriteFunction = (this: ServerResponse, ...args: unknown[]) => boolean;
/** A body chunk given to `end`. */
export type Chunk = string | Buffer | Uint8Array | undefined | null;
/** `end`'s callback. */
export type Callback = (() => void) | undefined;

/** Ends the response with the original `end`, passing the caller's callback along. */
export function endWith(
  res: ServerResponse,
  originalEnd: EndFunction,
  chunk: Chunk,
  encoding: BufferEncoding | undefined,
  callback: Callback,
): unknown {
  return callback
    ? originalEnd.call(res, chunk, encoding, callback)
    : originalEnd.call(res, chunk, encoding);
}
