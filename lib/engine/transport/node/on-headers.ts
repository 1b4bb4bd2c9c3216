import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

type HeaderArgument =
  OutgoingHttpHeaders | readonly (readonly [string, unknown])[] | readonly unknown[];

function applyHeaders(res: ServerResponse, headers: HeaderArgument): void {
  if (Array.isArray(headers)) {
    if (headers.length > 0 && !Array.isArray(headers[0])) {
      // Flat [key, value, key, value, ...] list.
      if (headers.length % 2 !== 0) throw new TypeError('headers array is malformed');
      if (typeof res.appendHeader === 'function') {
        for (let i = 0; i < headers.length; i += 2) res.removeHeader(String(headers[i]));
        for (let i = 0; i < headers.length; i += 2) {
          res.appendHeader(String(headers[i]), headers[i + 1] as string | string[]);
        }
      } else {
        for (let i = 0; i < headers.length; i += 2) {
          res.setHeader(String(headers[i]), headers[i + 1] as string | string[]);
        }
      }
      return;
    }
    for (const pair of headers as readonly (readonly [string, unknown])[]) {
      res.setHeader(pair[0], pair[1] as string | string[]);
    }
    return;
  }
  for (const key of Object.keys(headers)) {
    if (key) res.setHeader(key, (headers as OutgoingHttpHeaders)[key] as string | string[]);
  }
}

/** `writeHead` as found on a response or its prototype. @internal */
export type WriteHeadFunction = (this: ServerResponse, ...args: unknown[]) => ServerResponse;

/**
 * One call of `res.writeHead(statusCode, [reason], [headers])` through a hook: the status and
 * headers are applied first (so `listener` sees them), then `listener` runs (when given), then
 * `original` writes the head.
 * @internal
 */
export function writeHeadThrough(
  res: ServerResponse,
  original: WriteHeadFunction,
  statusCode: number,
  rest: readonly unknown[],
  listener: ((res: ServerResponse) => void) | undefined,
): ServerResponse {
  const hasReason = typeof rest[0] === 'string';
  const headers = (hasReason ? rest[1] : rest[0]) as HeaderArgument | undefined;
  res.statusCode = statusCode;
  if (headers) applyHeaders(res, headers);
  if (listener !== undefined) listener(res);
  return hasReason
    ? original.call(res, res.statusCode, rest[0])
    : original.call(res, res.statusCode);
}

/**
 * Runs `listener` once, right before the response headers are written, by wrapping
 * `res.writeHead` (Node's implicit-header path goes through it too). Headers passed to
 * `writeHead` are applied with `setHeader` first, so the listener sees them. Same semantics as
 * jshttp's on-headers 1.1.
 */
export function onHeaders(res: ServerResponse, listener: () => void): void {
  const original = res.writeHead as WriteHeadFunction;
  let fired = false;
  res.writeHead = function writeHead(this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    const first = !fired;
    fired = true;
    return writeHeadThrough(
      this,
      original,
      statusCode,
      rest,
      first ? () => listener.call(this) : undefined,
    );
  } as ServerResponse['writeHead'];
}
