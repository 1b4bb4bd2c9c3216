import type { Request } from 'express';
import type { SessionRequest } from '../../lib';
import type { User } from './users.service';

/** A request as a handler sees it: Express's, or Fastify's (which keeps the Node one as `raw`). */
export type AnyRequest = Request | { raw?: Request; user?: unknown };

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

/** Signs `user` in with passport's `req.logIn`: passport 0.7 regenerates the session (new id). */
export function logIn(req: AnyRequest, user: User): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    passportRequest(req).logIn(user, (err: unknown) => (err ? reject(err) : resolve())),
  );
}

/**
 * Signs out: passport's `req.logout` (which regenerates the session), then destroys the session
 * it left, so that no session remains (the module clears the browser's cookie).
 */
export async function logOut(req: AnyRequest): Promise<void> {
  const raw = passportRequest(req);
  await new Promise<void>((resolve, reject) =>
    raw.logout((err: unknown) => (err ? reject(err) : resolve())),
  );
  await (raw as Request & SessionRequest).session?.destroy();
}
