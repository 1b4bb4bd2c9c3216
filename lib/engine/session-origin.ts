import type { Session } from './session';

const loaded = new WeakSet<object>();

/**
 * Marks a session object as read from the store (as opposed to created by this request).
 * @internal
 */
export function markLoadedFromStore(session: Session): void {
  loaded.add(session);
}

/**
 * True when `session` was read from the store during this request and still has the id it was
 * read under. Stores use it to write such a session only if its record still exists, so a save
 * or touch that arrives after a concurrent destroy (logout in another tab) cannot bring the
 * session back. A new or regenerated session returns false (it is written unconditionally).
 */
export function isStoredSession(session: unknown): boolean {
  return typeof session === 'object' && session !== null && loaded.has(session);
}
