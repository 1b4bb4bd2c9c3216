import type { ServerResponse } from 'node:http';
import type { CookieOptions } from '../cookie';
import type { RequestSession, SessionRequest } from '../session';
import type { SecretKey } from '../signature';
import { SignedCookieTransport } from './cookie-transport';
import {
  type SessionIdValidator,
  VerifiedCookieCache,
  signedCookieValue,
  verifySignedValue,
} from './session-cookie';
import { PerRequestTransport, type ReceivedSessionId, type SessionIdTransport } from './transport';

/**
 * The value of the request header `name` (lower case) when the request carries it, `''` for an
 * empty value, `undefined` without the header. Node joins repeated custom headers with `, `:
 * such a value is not a signed id and verifies to nothing.
 */
export function sessionHeaderValue(req: SessionRequest, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The session id carried in the request header `name` (`s:<id>.<signature>`, raw or
 * percent-encoded), verified exactly as the cookie is ({@link verifySignedValue}: the secrets in
 * turn, `isValidId`, timing-safe); `undefined` when the header is missing, empty or invalid.
 * Framework-free: a Fastify or WebSocket transport reads `request.raw`'s headers with it.
 */
export function readHeaderSessionId(
  req: SessionRequest,
  name: string,
  secrets: readonly SecretKey[],
  isValidId?: SessionIdValidator,
  cache?: VerifiedCookieCache,
): ReceivedSessionId | undefined {
  const value = sessionHeaderValue(req, name)?.trim();
  return value ? verifySignedValue(value, secrets, isValidId, cache) : undefined;
}

/** Settings of a {@link SignedHeaderTransport}. */
export interface SignedHeaderOptions {
  /** The header's name (any case; HTTP header names are case-insensitive). */
  header: string;
  /** Rejects values that cannot be ids before any HMAC work (`isValidId`). */
  isValidId: SessionIdValidator | undefined;
  /** Remember verified values (only with fixed secrets). */
  cache: boolean;
}

/**
 * Seam (a) for clients without a cookie jar (mobile apps, CLIs, servers): the signed id (the
 * cookie's value, `s:<id>.<signature>`) travels in a request header and comes back in the same
 * response header, never in `Set-Cookie`. Sessions are scoped and `Secure` is honoured as for
 * the cookie (`scope`: the cookie transport it is paired with), so the same options mean the
 * same thing on both transports.
 */
export class SignedHeaderTransport implements SessionIdTransport<ServerResponse> {
  /** The header's name, lower case. */
  readonly header: string;
  private readonly isValidId: SessionIdValidator | undefined;
  private readonly verified: VerifiedCookieCache | undefined;

  constructor(
    options: SignedHeaderOptions,
    private readonly scope: Pick<SessionIdTransport<ServerResponse>, 'inScope' | 'canSend'>,
  ) {
    this.header = options.header.toLowerCase();
    this.isValidId = options.isValidId;
    this.verified = options.cache ? new VerifiedCookieCache() : undefined;
  }

  /** As the cookie: the request's path is under `cookie.path`. */
  inScope(req: SessionRequest, cookie: CookieOptions): boolean {
    return this.scope.inScope(req, cookie);
  }

  /** The id in the header, verified (see {@link readHeaderSessionId}). */
  read(req: SessionRequest, secrets: readonly SecretKey[]): ReceivedSessionId | undefined {
    return readHeaderSessionId(req, this.header, secrets, this.isValidId, this.verified);
  }

  /** As the cookie: a session whose cookie is `Secure` gets its id back only over HTTPS. */
  canSend(req: SessionRequest, session: RequestSession): boolean {
    return this.scope.canSend(req, session);
  }

  /** Sets the header to the signed id (`s:<id>.<signature>`, not percent-encoded). */
  send(res: ServerResponse, id: string, _session: unknown, secret: SecretKey): void {
    res.setHeader(this.header, signedCookieValue(id, secret));
  }

  /** Sets the header empty: the client forgets the id of the destroyed session. */
  clear(res: ServerResponse): void {
    res.setHeader(this.header, '');
  }

  /** Removes the header (strict mode: the write the id stood for did not happen). */
  withdraw(res: ServerResponse): void {
    res.removeHeader(this.header);
  }
}

/**
 * The Node transports of the `header` option: a request that carries the header (even empty)
 * uses the header, every other request the cookie; the id is never echoed in a header to a
 * cookie request (a script on the page could read it, which would undo `httpOnly`).
 */
export function headerOrCookieTransport(
  header: string,
  cookie: SignedCookieTransport,
  options: Omit<SignedHeaderOptions, 'header'>,
): PerRequestTransport<ServerResponse> {
  const transport = new SignedHeaderTransport({ ...options, header }, cookie);
  const name = transport.header;
  return new PerRequestTransport((req) => req.headers[name] !== undefined, transport, cookie);
}
