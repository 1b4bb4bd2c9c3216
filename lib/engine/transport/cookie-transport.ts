import type { ServerResponse } from 'node:http';
import { serialize } from 'cookie';
import type { CookieOptions } from '../cookie';
import { type ProxySetting, isSecureRequest } from '../secure-request';
import type { RequestSession, SessionRequest } from '../session';
import type { SecretKey } from '../signature';
import { requestPath } from './request-path';
import {
  type SessionIdValidator,
  VerifiedCookieCache,
  appendSetCookie,
  readSessionId,
  signedCookieValue,
} from './session-cookie';
import type { ReceivedSessionId, SessionIdTransport } from './transport';

type SerializeOptions = Parameters<typeof serialize>[2];

/** Settings of a {@link SignedCookieTransport}. */
export interface SignedCookieOptions {
  /** The cookie's name (`connect.sid`). */
  name: string;
  /** Rejects values that cannot be ids before any HMAC work (`isValidId`). */
  isValidId: SessionIdValidator | undefined;
  /** How to tell an HTTPS request behind proxies (`proxy`), for `Secure` cookies. */
  proxy: ProxySetting;
  /** Remember verified values (only with fixed secrets: `secret` given, not `req.secret`). */
  cache: boolean;
}

/** The `Set-Cookie` line that carries a session id: `name=s:<id>.<signature>; attributes`. */
export function sessionCookieLine(
  name: string,
  id: string,
  session: RequestSession,
  secret: SecretKey,
): string {
  return serialize(name, signedCookieValue(id, secret), session.cookie.data as SerializeOptions);
}

/** The `Set-Cookie` line that makes the browser drop the cookie (empty, expired in 1970). */
export function clearedCookieLine(name: string, attributes: CookieOptions): string {
  const cleared = { ...attributes, httpOnly: true, expires: new Date(0) };
  return serialize(name, '', cleared as SerializeOptions);
}

/**
 * Seam (a), first implementation: the session id in express-session's signed cookie. Read from
 * the `Cookie` header (or cookie-parser's `req.signedCookies`/`req.cookies`), verified against
 * the secrets and cached once verified; written as a `Set-Cookie` line added after the ones
 * already on the response; scoped by the cookie's `path`.
 */
export class SignedCookieTransport implements SessionIdTransport<ServerResponse> {
  private readonly name: string;
  private readonly isValidId: SessionIdValidator | undefined;
  private readonly proxy: ProxySetting;
  private readonly verified: VerifiedCookieCache | undefined;

  constructor(options: SignedCookieOptions) {
    this.name = options.name;
    this.isValidId = options.isValidId;
    this.proxy = options.proxy;
    this.verified = options.cache ? new VerifiedCookieCache() : undefined;
  }

  /** The request's path is under the cookie's `path` (default `/`). */
  inScope(req: SessionRequest, cookie: CookieOptions): boolean {
    return requestPath(req).startsWith(cookie.path || '/');
  }

  /** The id in the signed cookie, verified (see `readSessionId`). */
  read(req: SessionRequest, secrets: readonly SecretKey[]): ReceivedSessionId | undefined {
    return readSessionId(req, this.name, secrets, this.isValidId, this.verified);
  }

  /** A `Secure` cookie goes out only on a secure request. */
  canSend(req: SessionRequest, session: RequestSession): boolean {
    return !session.cookie.secure || isSecureRequest(req, this.proxy);
  }

  /** Adds the session cookie's `Set-Cookie` line. */
  send(res: ServerResponse, id: string, session: RequestSession, secret: SecretKey): void {
    appendSetCookie(res, sessionCookieLine(this.name, id, session, secret));
  }

  /** Adds a `Set-Cookie` line that expires the cookie. */
  clear(res: ServerResponse, attributes: CookieOptions): void {
    appendSetCookie(res, clearedCookieLine(this.name, attributes));
  }
}
