import type { NodeCallback } from '../engine/node-callback';
import type { SessionRecord } from '../engine/session-data';
import { isStoredSession } from '../engine/session-origin';
import { STORE_EXPIRED_EVENT, type StoreExpiredEvent } from '../engine/session-events';
import { parseStoredRecord, withCookieJson } from '../engine/record-json';
import { applyPatch, type SessionPatch } from '../engine/session-patch';
import { SessionStore } from './session-store';
import { ownOperationBound, type StoreMethod } from '../engine/store/store-call';
import type { RevocationSubscription } from '../engine/store/store-like';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most sessions kept; past it the least recently used session is evicted.
   * Default 100 000. `Infinity` disables the bound.
   */
  max?: number;
  /**
   * How often expired sessions are swept, in milliseconds (default 60 000; 0 disables the sweep:
   * expired sessions are then removed only when read). The timer never keeps the process alive.
   */
  pruneInterval?: number;
  /**
   * Lifetime in milliseconds of a session whose cookie has no expiry (a browser-session cookie),
   * counted from its last write or touch. Default one day; `Infinity` keeps them until evicted.
   */
  ttl?: number;
}

interface Entry {
  json: string;
  /** Epoch ms after which the entry is expired (Infinity: never). */
  expiresAt: number;
}

/**
 * What the store keeps per session: the JSON alone when its expiry can be read back from it
 * (the usual case, see {@link statedExpiry}: nothing is stored beside the JSON, so a session
 * costs no more memory than in express-session's store), otherwise the JSON with its expiry.
 */
type Stored = string | Entry;

/**
 * The start of a record as the engine serializes it: the cookie first, its `expires` an ISO
 * string after `originalMaxAge` (and the optional `partitioned`/`priority`), as `Cookie#toJSON`
 * writes them. Anchored, so a key of the session data can never be taken for it.
 */
const LEADING_EXPIRES =
  /^\{"cookie":\{"originalMaxAge":(?:null|false|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?),(?:"partitioned":(?:true|false),)?(?:"priority":"[A-Za-z]*",)?"expires":"([^"\\]*)"/;

/** The expiry (epoch ms) a record's JSON states first thing, or NaN when it does not. */
function statedExpiry(json: string): number {
  const match = LEADING_EXPIRES.exec(json);
  return match ? Date.parse(match[1] as string) : NaN;
}

function jsonOf(stored: Stored): string {
  return typeof stored === 'string' ? stored : stored.json;
}

/**
 * A stored record's JSON with the session's cookie in place of its own: spliced into the text
 * when the record starts with its cookie (as every record the store writes does), else parsed,
 * changed and serialized again. Same text either way.
 */
function touchedJson(json: string, session: SessionRecord): string {
  const cookieJson = JSON.stringify(session.cookie) as string | undefined;
  const spliced = cookieJson === undefined ? undefined : withCookieJson(json, cookieJson);
  if (spliced !== undefined) return spliced;
  const stored = JSON.parse(json) as SessionRecord;
  stored.cookie = session.cookie;
  return JSON.stringify(stored);
}

function expiryOfStored(stored: Stored): number {
  return typeof stored === 'string' ? statedExpiry(stored) : stored.expiresAt;
}

const DEFAULT_MAX = 100_000;
const DEFAULT_PRUNE_INTERVAL = 60_000;
const DEFAULT_TTL = 86_400_000;

function checkNumber(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new TypeError(`MemoryStore option ${name} must be a number >= ${min}`);
  }
  return value;
}

function answer<T>(callback: NodeCallback<T> | undefined, run: () => T): Promise<T> | undefined {
  // Never synchronously, but without waiting for the next turn of the event loop: a request
  // whose session is in memory goes on in the same turn (setImmediate, as express-session's
  // MemoryStore uses, costs the server a loop iteration per request under load).
  if (typeof callback === 'function') {
    let result: T;
    try {
      result = run();
    } catch (err) {
      process.nextTick(callback, err);
      return undefined;
    }
    process.nextTick(callback, null, result);
    return undefined;
  }
  try {
    return Promise.resolve(run());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * The embedded in-process store, and the default. Unlike express-session's it does not leak:
 * expired sessions are swept on an unref'd timer, browser-session cookies get a `ttl`, and the
 * number of sessions is bounded (`max`, least recently used evicted). Each `get` returns a fresh
 * object. Every method takes an optional callback and otherwise returns a promise.
 *
 * A session that expires (found by the sweep or by a read) is reported with an `'expired'` event
 * (`{ sessionId, userId }`, the user when the per-user index knew it), which the engine turns
 * into its `expired` hook.
 *
 * It lives in one process: use {@link RedisStore} when several instances serve the same users.
 */
export class MemoryStore extends SessionStore {
  private readonly entries = new Map<string, Stored>();
  private readonly users = new Map<string, Set<string>>();
  /** The user of each indexed session (for its `'expired'` event). */
  private readonly owners = new Map<string, string>();
  private readonly revokedListeners = new Set<(sid: string) => void>();
  private readonly max: number;
  private readonly ttl: number;
  private timer: NodeJS.Timeout | undefined;

  /** @param options see {@link MemoryStoreOptions} */
  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.max = checkNumber('max', options.max, DEFAULT_MAX, 1);
    this.ttl = checkNumber('ttl', options.ttl, DEFAULT_TTL, 1);
    const interval = checkNumber('pruneInterval', options.pruneInterval, DEFAULT_PRUNE_INTERVAL, 0);
    if (interval > 0 && Number.isFinite(interval)) {
      this.timer = setInterval(() => this.prune(), interval);
      this.timer.unref();
    }
  }

  /**
   * Every operation answers by itself (on `process.nextTick`), so the engine sets no timer for it
   * (unless the method was replaced: see {@link SelfTimedStore}).
   */
  answersWithin(method: StoreMethod): number | undefined {
    return ownOperationBound(this, MemoryStore, method, 0);
  }

  /** A snapshot of the stored sessions as JSON strings keyed by id (express-session's `sessions`). */
  get sessions(): Record<string, string> {
    const out = Object.create(null) as Record<string, string>;
    for (const [sid, entry] of this.entries) out[sid] = jsonOf(entry);
    return out;
  }

  /** Reads a session (a fresh object), or `undefined` when missing or expired. */
  override get(sid: string): Promise<SessionRecord | undefined>;
  override get(sid: string, callback: NodeCallback<SessionRecord | undefined>): void;
  override get(sid: string, callback?: NodeCallback<SessionRecord | undefined>) {
    return answer(callback, () => {
      const entry = this.lookup(sid);
      if (!entry) return undefined;
      // Least-recently-used order: a read moves the entry to the end.
      this.entries.delete(sid);
      this.entries.set(sid, entry);
      return parseStoredRecord(jsonOf(entry));
    });
  }

  /**
   * Stores a session (serialized with `JSON.stringify`). A session read from the store that has
   * since been destroyed (or expired) stays gone: answers `false`, nothing written.
   */
  override set(sid: string, session: SessionRecord): Promise<void | false>;
  override set(sid: string, session: SessionRecord, callback: NodeCallback<void | false>): void;
  override set(sid: string, session: SessionRecord, callback?: NodeCallback<void | false>) {
    return answer(callback, (): void | false => {
      if (isStoredSession(session) && !this.lookup(sid)) return false;
      this.write(sid, JSON.stringify(session), session);
    });
  }

  /** Removes a session. */
  override destroy(sid: string): Promise<void>;
  override destroy(sid: string, callback: NodeCallback): void;
  override destroy(sid: string, callback?: NodeCallback) {
    return answer(callback, () => {
      this.owners.delete(sid);
      if (this.entries.delete(sid)) for (const listener of this.revokedListeners) listener(sid);
    });
  }

  /** Calls `listener(sid)` on each destroy of a stored session (in this process). */
  onRevoked(listener: (sid: string) => void): RevocationSubscription {
    this.revokedListeners.add(listener);
    return { ready: Promise.resolve(), close: () => this.revokedListeners.delete(listener) };
  }

  /**
   * Refreshes a session's expiry: only its `cookie` is replaced, its data stays as stored.
   * Answers `false` when the session no longer exists.
   */
  override touch(sid: string, session: SessionRecord): Promise<void | false>;
  override touch(sid: string, session: SessionRecord, callback: NodeCallback<void | false>): void;
  override touch(sid: string, session: SessionRecord, callback?: NodeCallback<void | false>) {
    return answer(callback, (): void | false => {
      const entry = this.lookup(sid);
      if (!entry) return false;
      this.entries.delete(sid);
      this.write(sid, touchedJson(jsonOf(entry), session), session);
    });
  }

  /**
   * Applies a patch (`concurrency: 'merge'`): only the keys a request changed are written, with
   * the new cookie; atomic (synchronous). A session that no longer exists stays gone (answers
   * `false`).
   */
  patch(sid: string, patch: SessionPatch, session: SessionRecord): Promise<void | false>;
  patch(
    sid: string,
    patch: SessionPatch,
    session: SessionRecord,
    callback: NodeCallback<void | false>,
  ): void;
  patch(
    sid: string,
    patch: SessionPatch,
    session: SessionRecord,
    callback?: NodeCallback<void | false>,
  ) {
    return answer(callback, (): void | false => {
      const entry = this.lookup(sid);
      if (!entry) return false;
      const record = applyPatch(JSON.parse(jsonOf(entry)) as SessionRecord, patch, session.cookie);
      this.write(sid, JSON.stringify(record), session);
    });
  }

  /** All live sessions as an object keyed by id (express-session's shape). */
  override all(): Promise<Record<string, SessionRecord>>;
  override all(callback: NodeCallback<Record<string, SessionRecord>>): void;
  override all(callback?: NodeCallback<Record<string, SessionRecord>>) {
    return answer(callback, () => {
      const out = Object.create(null) as Record<string, SessionRecord>;
      for (const sid of [...this.entries.keys()]) {
        const entry = this.lookup(sid);
        if (entry) out[sid] = JSON.parse(jsonOf(entry)) as SessionRecord;
      }
      return out;
    });
  }

  /** Ids of the live sessions. */
  override ids(): Promise<string[]>;
  override ids(callback: NodeCallback<string[]>): void;
  override ids(callback?: NodeCallback<string[]>) {
    return answer(callback, () => {
      this.prune();
      return [...this.entries.keys()];
    });
  }

  /** Number of live sessions. */
  override length(): Promise<number>;
  override length(callback: NodeCallback<number>): void;
  override length(callback?: NodeCallback<number>) {
    return answer(callback, () => {
      this.prune();
      return this.entries.size;
    });
  }

  /** Removes every session. */
  override clear(): Promise<void>;
  override clear(callback: NodeCallback): void;
  override clear(callback?: NodeCallback) {
    return answer(callback, () => {
      this.entries.clear();
      this.users.clear();
      this.owners.clear();
    });
  }

  /** Records that session `sid` belongs to `userId` (per-user index). */
  override addUserSession(userId: string, sid: string, _session?: SessionRecord): Promise<void> {
    let ids = this.users.get(userId);
    if (!ids) this.users.set(userId, (ids = new Set()));
    ids.add(sid);
    this.owners.set(sid, userId);
    return Promise.resolve();
  }

  /** Ids of the live sessions of `userId`; entries of sessions that are gone are pruned. */
  override userSessionIds(userId: string): Promise<string[]> {
    const ids = this.users.get(userId);
    if (!ids) return Promise.resolve([]);
    for (const sid of ids) if (!this.lookup(sid)) ids.delete(sid);
    if (ids.size === 0) this.users.delete(userId);
    return Promise.resolve([...ids]);
  }

  /** Removes expired sessions now. Returns how many were removed. */
  prune(): number {
    const now = Date.now();
    const expired: string[] = [];
    for (const [sid, entry] of this.entries) {
      if (expiryOfStored(entry) <= now) {
        this.entries.delete(sid);
        expired.push(sid);
      }
    }
    for (const sid of expired) this.reportExpired(sid);
    for (const [userId, ids] of this.users) {
      for (const sid of ids) if (!this.entries.has(sid)) ids.delete(sid);
      if (ids.size === 0) this.users.delete(userId);
    }
    return expired.length;
  }

  /** Stops the sweep timer. The sessions stay readable. */
  override close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private lookup(sid: string): Stored | undefined {
    const entry = this.entries.get(sid);
    if (entry === undefined) return undefined;
    if (expiryOfStored(entry) <= Date.now()) {
      this.entries.delete(sid);
      this.reportExpired(sid);
      return undefined;
    }
    return entry;
  }

  /** Emits `'expired'` for a session that expired (on the next tick: never inside a method). */
  private reportExpired(sid: string): void {
    const userId = this.owners.get(sid);
    if (userId !== undefined) this.owners.delete(sid);
    if (this.listenerCount(STORE_EXPIRED_EVENT) === 0) return;
    const event: StoreExpiredEvent =
      userId === undefined ? { sessionId: sid } : { sessionId: sid, userId };
    process.nextTick(() => this.emit(STORE_EXPIRED_EVENT, event));
  }

  private write(sid: string, json: string, session: SessionRecord): void {
    this.entries.delete(sid);
    const expiresAt = this.expiryOf(session);
    this.entries.set(sid, statedExpiry(json) === expiresAt ? json : { json, expiresAt });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
        this.owners.delete(oldest.value);
      }
    }
  }

  private expiryOf(session: SessionRecord): number {
    const expires = session.cookie?.expires as unknown;
    if (!expires) return Date.now() + this.ttl;
    const at =
      expires instanceof Date
        ? expires.getTime()
        : typeof expires === 'string' || typeof expires === 'number'
          ? new Date(expires).getTime()
          : NaN;
    return Number.isNaN(at) ? Infinity : at;
  }
}
