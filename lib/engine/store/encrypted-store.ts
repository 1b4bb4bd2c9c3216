import { type EncryptionOptions, RecordCipher } from '../encryption';
import { fingerprint } from '../fingerprint';
import { type NodeCallback, promiseOrCallback } from '../node-callback';
import type { SessionRecord } from '../session-data';
import { markLoadedFromStore, storedRecordOf } from '../session-origin';
import { Store } from './store';
import { type SelfTimedStore, type StoreMethod, callStore } from './store-call';
import type { ReadRefresh, StoreLike } from './store-like';

/** The key of the sealed data in a stored record (beside the cookie, which stays in clear). */
export const SEALED_KEY = '$enc';

/** On a decrypted record: the record the inner store returned (its markers live there). */
const INNER_RECORD = Symbol('nest-session.innerRecord');
/** On a session this wrapper wrote: the sealed value it wrote (a touch reuses it). */
const SEALED = Symbol('nest-session.sealed');

type Linked = { [INNER_RECORD]?: SessionRecord; [SEALED]?: string };

function hide(target: object, key: symbol, value: unknown): void {
  Object.defineProperty(target, key, { value, configurable: true, writable: true });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSealed(record: unknown): record is SessionRecord & { [SEALED_KEY]: unknown } {
  return isObject(record) && Object.prototype.hasOwnProperty.call(record, SEALED_KEY);
}

/** The optional inner-store methods the wrapper offers only when the inner store has them. */
const OPTIONAL = [
  'touch',
  'getAndTouch',
  'all',
  'ids',
  'length',
  'clear',
  'addUserSession',
  'userSessionIds',
  'close',
] as const;

/** Event methods: the wrapper's events are the inner store's (`connect`, `disconnect`, `warning`). */
const EVENT_METHODS = [
  'onRevoked',
  'on',
  'addListener',
  'prependListener',
  'once',
  'prependOnceListener',
  'off',
  'removeListener',
  'removeAllListeners',
  'emit',
  'listeners',
  'listenerCount',
] as const;

type InnerStore = StoreLike &
  SelfTimedStore & {
    addUserSession?(userId: string, sid: string, session: SessionRecord): unknown;
    userSessionIds?(userId: string): unknown;
    close?(): unknown;
    ids?(callback: NodeCallback<string[]>): unknown;
    listenerCount?(event: string): number;
    emit?(event: string, ...args: unknown[]): boolean;
  };

/**
 * Encryption at rest, around any store (the engine puts it around the configured store when the
 * `encryption` option is set). A record is stored as `{ cookie, $enc }`: the cookie in clear
 * (stores read its expiry for their TTLs, and the Redis read-refresh rewrites it in place), every
 * other key sealed together by a {@link RecordCipher} bound to the session id.
 *
 * The inner store's protections keep working: a decrypted record remembers the record the inner
 * store returned, and a write hands the inner store a sealed record marked with it, so the inner
 * store still tells a session read from it (`SET … XX`, no resurrection after logout; the
 * compare-and-set touch; the "refused" answer). A touch reuses the sealed value (the data is
 * unchanged) with the new cookie.
 *
 * A record that cannot be opened (tampered, moved to another id, an unknown key, malformed) reads
 * as "no session" and is removed, with a `'warning'`. A record in clear (written before
 * encryption was turned on) is read as it is, and sealed on its next save (migration), unless
 * `acceptPlaintext: false`.
 * @internal
 */
export class EncryptedStore extends Store {
  private readonly cipher: RecordCipher;

  /**
   * @param inner the configured store (any style)
   * @param options the validated `encryption` option
   */
  constructor(
    readonly inner: StoreLike,
    options: EncryptionOptions,
  ) {
    super();
    this.cipher = new RecordCipher(options);
    const self = this as unknown as Record<string, unknown>;
    const own = inner as unknown as Record<string, unknown>;
    for (const method of OPTIONAL) {
      // Absent on the wrapper when absent on the inner store: the engine checks `typeof`.
      if (typeof own[method] !== 'function') self[method] = undefined;
    }
    for (const method of EVENT_METHODS) {
      const fn = own[method];
      self[method] =
        typeof fn === 'function'
          ? (...args: unknown[]) => {
              const result = (fn as (...a: unknown[]) => unknown).apply(inner, args);
              return result === inner ? this : result;
            }
          : undefined;
    }
  }

  /** The inner store's bound (the wrapper adds only CPU work). */
  answersWithin(method: StoreMethod): number | undefined {
    const inner = this.inner as InnerStore;
    return typeof inner.answersWithin === 'function' ? inner.answersWithin(method) : undefined;
  }

  /** Reads and decrypts a session. */
  get(sid: string, callback?: NodeCallback<SessionRecord | null | undefined>) {
    return promiseOrCallback<SessionRecord | null | undefined>(callback, (done) =>
      callStore<SessionRecord | null | undefined>(this.inner, 'get', [sid], undefined, (err, r) =>
        err ? done(err) : done(null, this.unseal(sid, r)),
      ),
    );
  }

  /** Reads, refreshes (the clear cookie only: see `ReadRefresh`) and decrypts a session. */
  getAndTouch(
    sid: string,
    refresh: ReadRefresh,
    callback?: NodeCallback<SessionRecord | null | undefined>,
  ) {
    return promiseOrCallback<SessionRecord | null | undefined>(callback, (done) =>
      callStore<SessionRecord | null | undefined>(
        this.inner,
        'getAndTouch',
        [sid, refresh],
        undefined,
        (err, r) => (err ? done(err) : done(null, this.unseal(sid, r))),
      ),
    );
  }

  /** Encrypts and writes a session (answers `false` as the inner store does). */
  set(sid: string, session: SessionRecord, callback?: NodeCallback<void | false>) {
    return promiseOrCallback<void | false>(callback, (done) => {
      let record: SessionRecord;
      let sealed: string;
      try {
        sealed = this.cipher.seal(sid, fingerprint(session));
        record = this.sealedRecord(session, sealed);
      } catch (err) {
        return done(err);
      }
      callStore<void | false>(this.inner, 'set', [sid, record], undefined, (err, written) => {
        // What a later touch of this session in the same request reuses.
        if (!err && written !== false && Object.isExtensible(session)) {
          hide(session, SEALED, sealed);
        }
        done(err, written);
      });
    });
  }

  /**
   * Refreshes a session's expiry: the sealed value the session was read or last written with,
   * and its new cookie (no re-encryption). A session read in clear is touched as it is (it is
   * sealed on its next save).
   */
  touch(sid: string, session: SessionRecord, callback?: NodeCallback<void | false>) {
    return promiseOrCallback<void | false>(callback, (done) => {
      let record: SessionRecord = session;
      try {
        const stored = storedRecordOf(session) as (SessionRecord & Linked) | undefined;
        const sealed = (session as Linked)[SEALED] ?? stored?.[INNER_RECORD]?.[SEALED_KEY];
        if (typeof sealed === 'string') record = this.sealedRecord(session, sealed);
        else if (stored === undefined) {
          record = this.sealedRecord(session, this.cipher.seal(sid, fingerprint(session)));
        }
      } catch (err) {
        return done(err);
      }
      callStore<void | false>(this.inner, 'touch', [sid, record], undefined, done);
    });
  }

  /** Removes a session. */
  destroy(sid: string, callback?: NodeCallback) {
    return promiseOrCallback<void>(callback, (done) =>
      callStore<void>(this.inner, 'destroy', [sid], undefined, (err) => done(err)),
    );
  }

  /**
   * The stored sessions, decrypted (those that cannot be opened are left out), in the inner
   * store's shape: an array of sessions with their `id`, or an object keyed by id.
   */
  all(callback?: NodeCallback<unknown>) {
    return promiseOrCallback<unknown>(callback, (done) =>
      callStore<unknown>(this.inner, 'all', [], undefined, (err, all) => {
        if (err) return done(err);
        if (Array.isArray(all)) {
          const out: unknown[] = [];
          for (const entry of all) {
            const id = (entry as { id?: unknown } | null)?.id;
            const open = typeof id === 'string' ? this.open(id, entry, false) : undefined;
            if (open) out.push(Object.assign(open, { id }));
          }
          return done(null, out);
        }
        const out = Object.create(null) as Record<string, SessionRecord>;
        for (const [id, entry] of Object.entries((all ?? {}) as Record<string, unknown>)) {
          const open = this.open(id, entry, false);
          if (open) out[id] = open;
        }
        done(null, out);
      }),
    );
  }

  /** Ids of the stored sessions (the inner store's). */
  ids(callback?: NodeCallback<string[]>) {
    return this.forward<string[]>('ids', callback);
  }

  /** Number of stored sessions (the inner store's). */
  length(callback?: NodeCallback<number>) {
    return this.forward<number>('length', callback);
  }

  /** Removes every session (the inner store's). */
  clear(callback?: NodeCallback) {
    return this.forward<void>('clear', callback);
  }

  /**
   * Per-user index: the inner store indexes the session under an HMAC of the user id (under the
   * first key), never the user id itself.
   */
  addUserSession(userId: string, sid: string, session: SessionRecord): Promise<void> {
    const inner = this.inner as InnerStore;
    const [name] = this.cipher.userIndexIds(userId);
    try {
      return Promise.resolve(
        inner.addUserSession?.(name as string, sid, { cookie: session.cookie }),
      ).then(() => undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Ids of the live sessions of `userId`, under the index names of every key (rotation). */
  async userSessionIds(userId: string): Promise<string[]> {
    const inner = this.inner as InnerStore;
    const lists = await Promise.all(
      this.cipher.userIndexIds(userId).map((name) => inner.userSessionIds?.(name) as unknown),
    );
    return [...new Set(lists.flatMap((list) => (Array.isArray(list) ? (list as string[]) : [])))];
  }

  /** Closes the inner store (what it created; see its own `close`). */
  close(): unknown {
    return (this.inner as InnerStore).close?.();
  }

  // --- internals ---

  private forward<T>(method: StoreMethod, callback?: NodeCallback<T>) {
    return promiseOrCallback<T>(callback, (done) =>
      callStore<T>(this.inner, method, [], undefined, done),
    );
  }

  /** `{ cookie, $enc }`, marked with the inner record the session was read as (if any). */
  private sealedRecord(session: SessionRecord, sealed: string): SessionRecord {
    const record = { cookie: session.cookie, [SEALED_KEY]: sealed } as SessionRecord;
    const stored = storedRecordOf(session) as (SessionRecord & Linked) | undefined;
    if (stored !== undefined) markLoadedFromStore(record, stored[INNER_RECORD] ?? stored);
    return record;
  }

  /** A record as the engine gets it: decrypted, passed through, or discarded (`undefined`). */
  private unseal(sid: string, record: SessionRecord | null | undefined) {
    if (!isObject(record)) return record; // nothing, or bad data the engine discards
    return this.open(sid, record, true);
  }

  /**
   * The decrypted record (linked to `record`), `record` itself when it is in clear and accepted,
   * or `undefined` (removed from the store when `discard`).
   */
  private open(sid: string, record: unknown, discard: boolean): SessionRecord | undefined {
    if (!isObject(record)) return undefined;
    if (!isSealed(record)) {
      if (this.cipher.acceptPlaintext) return record as SessionRecord;
      if (discard) this.discard(sid, 'is stored in clear (acceptPlaintext: false)');
      return undefined;
    }
    const opened = this.cipher.open(sid, record[SEALED_KEY]);
    let data: unknown;
    if ('plaintext' in opened) {
      try {
        data = JSON.parse(opened.plaintext);
      } catch {
        data = undefined;
      }
    }
    if (!isObject(data)) {
      if (discard) {
        const why = 'failure' in opened ? opened.failure : 'not a session object';
        this.discard(sid, `could not be decrypted (${why})`);
      }
      return undefined;
    }
    data.cookie = record.cookie;
    hide(data, INNER_RECORD, record);
    return data as SessionRecord;
  }

  /** Removes an unusable record (best effort) and reports it as a `'warning'`. */
  private discard(sid: string, problem: string): void {
    callStore(this.inner, 'destroy', [sid], undefined, () => undefined);
    const warning = new Error(`nest-session: a stored session record ${problem}; it was removed`);
    warning.name = 'SessionEncryptionWarning';
    const inner = this.inner as InnerStore;
    if (typeof inner.emit === 'function' && (inner.listenerCount?.('warning') ?? 0) > 0) {
      inner.emit('warning', warning);
    } else process.emitWarning(warning.message, warning.name);
  }
}
