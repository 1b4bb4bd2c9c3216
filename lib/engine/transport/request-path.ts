import type { IncomingMessage } from 'node:http';
import { parse as legacyParse } from 'node:url';

// Characters that make a path need the full parser (parseurl's fast-path rule).
const NEEDS_FULL_PARSE = /[\t\n\f\r #\u00a0\ufeff]/;

/**
 * The request's pathname, as express-session reads it: from `req.originalUrl` (Express mounting)
 * when it is a string, else `req.url`; `'/'` when empty. Never built from the `Host` header.
 */
export function requestPath(req: IncomingMessage & { originalUrl?: string }): string {
  const url = typeof req.originalUrl === 'string' ? req.originalUrl : req.url;
  if (!url) return '/';
  if (url.charCodeAt(0) === 0x2f && !NEEDS_FULL_PARSE.test(url)) {
    const query = url.indexOf('?');
    return query === -1 ? url : url.slice(0, query);
  }
  return legacyParse(url).pathname || '/';
}
