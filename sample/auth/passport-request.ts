import type { Request } from 'express';
import type { User } from './users.service';

/** A request as a handler sees it: Express's, or Fastify's (which keeps the Node one as `raw`). */
type AnyRequest = Request | { raw?: Request; user?: unknown };

/**
 * The request passport's middleware (`passport.initialize()`, `passport.session()`) worked on.
 * Nest runs middleware on the Node request: with Express that is the request handlers get; with
 * Fastify it is `request.raw` (so `req.logout()` and the user passport deserialized live there).
 * The session itself is the same object on both (nest-session mirrors it).
 */
export function passportRequest(req: AnyRequest): Request {
  return ((req as { raw?: Request }).raw ?? req) as Request;
}

/**
 * The signed-in user: set by `req.logIn()` during sign-in (on the request the guard saw), or by
 * `passport.session()` from the session on later requests (on the request middleware saw).
 */
export function userOf(req: AnyRequest): User | undefined {
  return ((req as { user?: unknown }).user ?? passportRequest(req).user) as User | undefined;
}
