import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * The `proxy` option: `true` trusts the first `X-Forwarded-Proto` value (every hop trusted, as
 * express-session); a number trusts that many proxy hops and reads the value they set, counting
 * from the right; `false` trusts only a TLS socket; undefined defers to `req.secure` (Express's
 * `trust proxy`).
 */
export type ProxySetting = boolean | number | undefined;

/** Whether the request counts as HTTPS for the `Secure` cookie attribute and `'auto'` values. */
export function isSecureRequest(
  req: IncomingMessage & { secure?: boolean },
  proxy: ProxySetting,
): boolean {
  if ((req.socket as TLSSocket | undefined)?.encrypted) return true;
  if (proxy === false || proxy === 0) return false;
  if (proxy !== true && typeof proxy !== 'number') return req.secure === true;
  const raw = req.headers['x-forwarded-proto'];
  const header = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  let value: string;
  if (proxy === true) {
    const comma = header.indexOf(',');
    value = comma === -1 ? header : header.slice(0, comma);
  } else {
    // Each trusted proxy appends one value; the ones further left came from untrusted peers.
    const values = header.split(',');
    value = values[Math.max(0, values.length - proxy)] ?? '';
  }
  return value.trim().toLowerCase() === 'https';
}
