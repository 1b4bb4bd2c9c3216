/** On a session read from the store: the record it was built from (non-enumerable). */
const STORED_RECORD = Symbol('nest-session.storedRecord');

type MarkedSession = { [STORED_RECORD]?: object };

/**
 * Marks a session object as read from the store (as opposed to created by this request), and
 * remembers the record object the store returned for it.
 * @internal
 */
export function markLoadedFromStore(session: object, record: object): void {
  // A hidden property rather than a WeakMap: cheaper to set, and nothing for the GC to trace.
  // Non-enumerable, so data copies, deep equality and JSON never see it.
  Object.defineProperty(session, STORED_RECORD, { value: record, configurable: true });
}

/**
 * The record object a store's `get` returned for a session read from the store in this request
 * (stores may key their own bookkeeping on it, e.g. the raw value they read), or `undefined`.
 */
export function storedRecordOf(session: unknown): object | undefined {
  return typeof session === 'object' && session !== null
    ? (session as MarkedSession)[STORED_RECORD]
    : undefined;
}

/**
 * True when `session` was read from the store during this request and still has the id it was
 * read under. Stores use it to write such a session only if its record still exists, so a save
 * or touch that arrives after a concurrent destroy (logout in another tab) cannot bring the
 * session back. A new or regenerated session returns false (it is written unconditionally).
 */
export function isStoredSession(session: unknown): boolean {
  return (
    typeof session === 'object' &&
    session !== null &&
    (session as MarkedSession)[STORED_RECORD] !== undefined
  );
}
