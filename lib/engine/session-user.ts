import type { SessionRecord } from './session-data';
import type { RequestSession } from './session';

/** How to find the user of a session: a key of its data, or a function of it. */
export type UserKey = string | ((session: RequestSession) => unknown);

/**
 * The user a session belongs to, as a string, or `undefined` when it has none (or the function
 * throws: a session whose owner cannot be told is simply not indexed).
 */
export function sessionUser(
  userKey: UserKey,
  session: RequestSession | SessionRecord,
): string | undefined {
  let user: unknown;
  try {
    user =
      typeof userKey === 'function'
        ? userKey(session as RequestSession)
        : (session as Record<string, unknown>)[userKey];
  } catch {
    return undefined;
  }
  if (user === undefined || user === null || user === '') return undefined;
  return typeof user === 'object' ? JSON.stringify(user) : String(user);
}
