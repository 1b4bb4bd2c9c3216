/**
 * What change detection compares: the session's JSON without its top-level `cookie` (so a cookie
 * change alone is not a modification, while a nested `cookie` key in user data is). The string
 * itself is compared: no hashing, and JSON semantics (key order, `toJSON`, omissions) are kept.
 * Throws on data JSON cannot serialize (BigInt, cycles).
 */
export function fingerprint(session: object): string {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { cookie: _cookie, ...data } = session as { cookie?: unknown };
  return JSON.stringify(data);
}

/** The fingerprint of a session that holds nothing but its cookie. */
export const EMPTY_FINGERPRINT = '{}';
