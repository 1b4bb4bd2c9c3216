import type { IncomingMessage, ServerResponse } from 'node:http';
import { onHeaders } from './on-headers';

/** Whether a comma-separated header value lists `name` (case-insensitive). */
function lists(value: string, name: string): boolean {
  return value.split(',').some((item) => item.trim().toLowerCase() === name);
}

/** Adds `name` to the comma-separated list header `list` when it is not already in it. */
function addToList(res: ServerResponse, list: string, name: string): void {
  const current = res.getHeader(list);
  const value = Array.isArray(current) ? current.join(', ') : String(current ?? '');
  if (value.trim() === '') res.setHeader(list, name);
  else if (!lists(value, name)) res.setHeader(list, `${value}, ${name}`);
}

/**
 * Makes the session-id header usable cross-origin on this response, whatever CORS
 * configuration produced it: once the app's CORS layer (Nest's `enableCors()`, the `cors`
 * package, `@fastify/cors`, hand-written headers) has answered for an allowed origin (the
 * response carries `Access-Control-Allow-Origin`), `header` is added to
 * `Access-Control-Expose-Headers` (so scripts can read the id the response returns) and, on a
 * preflight, to `Access-Control-Allow-Headers` (so the browser sends it). A response without
 * `Access-Control-Allow-Origin` (CORS off, or the origin refused) is left alone: this never
 * enables CORS by itself. Runs just before the headers are written, so it sees headers passed to
 * `writeHead` too (Fastify passes them all there).
 *
 * @param header the header's name, lower case
 */
export function exposeSessionHeaderToCors(
  req: IncomingMessage,
  res: ServerResponse,
  header: string,
): void {
  onHeaders(res, () => {
    if (res.getHeader('Access-Control-Allow-Origin') === undefined) return;
    addToList(res, 'Access-Control-Expose-Headers', header);
    const preflight =
      req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (preflight) addToList(res, 'Access-Control-Allow-Headers', header);
  });
}

/**
 * A `'request'` listener for a Node HTTP server that applies {@link exposeSessionHeaderToCors}
 * to every response. Put first on the server (`server.prependListener('request', listener)`), it
 * runs before any middleware, so preflights that a CORS middleware answers before the session
 * middleware ever runs are covered too.
 */
export function corsExposureListener(
  header: string,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => exposeSessionHeaderToCors(req, res, header);
}
