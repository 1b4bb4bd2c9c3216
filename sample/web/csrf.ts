import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
} from '@nestjs/common';
import type { Request } from 'express';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestSession, SessionRequest } from '../../lib';

/** What the HTML pages keep in the session, on top of sample/session/session-data.ts. */
export interface DeviceInfo {
  /** The browser's User-Agent at sign-in. */
  userAgent: string;
  /** When this session signed in (ISO string). */
  signedInAt: string;
}

declare module '../../lib' {
  interface SessionData {
    /** The anti-CSRF token of the HTML forms (one per session). */
    csrfToken: string;
    /** Set on sign-in through the HTML form: shown on the "your devices" page. */
    device: DeviceInfo;
  }
}

/** Name of the hidden form field that carries the token. */
export const CSRF_FIELD = '_csrf';

/**
 * The session's form token, made on first use. Call it only when rendering a form: storing the
 * token is what gives an anonymous visitor a session (and a cookie).
 */
export function csrfToken(session: RequestSession): string {
  session.csrfToken ??= randomBytes(32).toString('base64url');
  return session.csrfToken;
}

function sameToken(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Rejects a form POST (403) unless its `_csrf` field matches the session's token.
 *
 * Defence in depth: the session cookie is `SameSite=Lax`, so browsers already leave it off
 * cross-site POSTs (a forged form from another site arrives without a session). The token also
 * covers same-site attackers (a sibling subdomain), old browsers without SameSite, and sign-in
 * CSRF (the sign-in form has a token too, from the anonymous session that rendered it).
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & SessionRequest>();
    const expected = req.session?.csrfToken;
    const body = req.body as Record<string, unknown> | undefined;
    const actual = body?.[CSRF_FIELD];
    if (
      typeof expected !== 'string' ||
      typeof actual !== 'string' ||
      !sameToken(expected, actual)
    ) {
      throw new ForbiddenException('The form has expired. Reload the page and try again.');
    }
    return true;
  }
}
