import type { SessionRecord } from './session-data';

/**
 * What a request changed in a session (`concurrency: 'merge'`): top-level keys set (with their
 * JSON) or deleted since the session was loaded. Stores that implement `patch` apply it
 * atomically, so concurrent requests changing different keys all keep their changes.
 */
export interface SessionPatch {
  /** Keys set or changed, with their new value as JSON. */
  set: [key: string, json: string][];
  /** Keys deleted. */
  unset: string[];
}

/** The JSON of each top-level data key (the cookie excluded): what a patch is computed against. */
export function snapshotKeys(data: object): Map<string, string> {
  const snapshot = new Map<string, string>();
  for (const key of Object.keys(data)) {
    if (key === 'cookie') continue;
    const json = JSON.stringify((data as Record<string, unknown>)[key]);
    if (json !== undefined) snapshot.set(key, json);
  }
  return snapshot;
}

/** The patch turning `before` into the current `session` (empty arrays when nothing changed). */
export function diffSession(before: Map<string, string>, session: object): SessionPatch {
  const now = snapshotKeys(session);
  const set: [string, string][] = [];
  for (const [key, json] of now) if (before.get(key) !== json) set.push([key, json]);
  const unset: string[] = [];
  for (const key of before.keys()) if (!now.has(key)) unset.push(key);
  return { set, unset };
}

/** Applies a patch to a parsed record (used by stores that hold parsed JSON, such as MemoryStore). */
export function applyPatch(
  record: SessionRecord,
  patch: SessionPatch,
  cookie: unknown,
): SessionRecord {
  const out = record as Record<string, unknown>;
  for (const key of patch.unset) delete out[key];
  for (const [key, json] of patch.set) out[key] = JSON.parse(json) as unknown;
  out.cookie = cookie;
  return record;
}
