import type { NodeCallback } from '../../engine/node-callback';
import { noop } from '../../engine/node-callback';
import type { SessionRecord } from '../../engine/session-data';
import type { SessionPatch } from '../../engine/session-patch';
import { ownOperationBound, type StoreMethod } from '../../engine/store/store-call';
import type { ReadRefresh, RevocationSubscription } from '../../engine/store/store-like';
import { STORE_EXPIRED_EVENT, type StoreExpiredEvent } from '../../engine/session-events';
import { SessionStore } from '../session-store';
import { answerWith, settle } from './answers';
import { listIds, readAll, removeAll } from './bulk';
import { type Answer, type Issue, RedisCommandCore } from './command-core';
import { RedisStoreError, messageOf } from './errors';
import { claimExpiry, recordOwner } from './expiry-claims';
import { RedisExpiryListener } from './expiry-events';
import { SentinelFailoverGuard, sentinelSettingsOf } from './failover-guard';
import {
  type RedisStoreOptions,
  type RedisStoredSession,
  type RedisStoreSerializer,
  resolveRedisStoreOptions,
} from './options';
import { decodeRecord, isThenable } from './records';
import type { RedisClientLike } from './redis-client';
import { readAndTouch, readRefreshArgs } from './read-refresh';
import { RedisRevocations } from './revocation';
import { addUserSession, userSessionIds } from './user-index';
import { TOMBSTONE_MS, replayDestroy } from './write-replays';
import { patchSession, refreshSession, type WriteTarget, writeSession } from './writes';

export { RedisStoreError } from './errors';
export type { RedisStoreOptions, RedisStoredSession, RedisStoreSerializer } from './options';

/** The longest writes are held during a Sentinel failover without news of its end. */
const MAX_FAILOVER_HOLD_MS = 10_000;

/** The operations bounded by one command each (so by `timeout`). */
const SINGLE_COMMAND: ReadonlySet<StoreMethod> = new Set([
  'get',
  'getAndTouch',
  'set',
  'destroy',
  'touch',
  'patch',
]);

/**
 * The production store: sessions in Redis through your ioredis client (standalone, Sentinel or
 * Cluster), in the connect-redis format, so switching from connect-redis keeps users signed in.
 *
 * - Key `prefix + sid`, value `serializer.stringify(session)` (the cookie included).
 * - TTL: `ceil((cookie.expires - now) / 1000)` seconds, or `ttl` for cookies without expiry;
 *   a session already expired is deleted instead of written.
 * - One command per operation: `get` = `GET`, `set` = `SET … EX` (or `DEL` when expired),
 *   `touch` = `EXPIRE`, `destroy` = `DEL` (+ `PUBLISH` on `<prefix>revoked`: see `onRevoked`). Listing (`ids`/`all`/`length`/`clear`) uses `SCAN`
 *   batches on every master of a Cluster, never `KEYS` nor cross-slot multi-key commands.
 * - No resurrection: a session read from the store in this request is saved with `SET … XX`,
 *   so a save that arrives after a concurrent destroy (logout in another tab) does not bring the
 *   session back; new sessions are written unconditionally.
 * - Bounded failure: every command is cut off after `timeout` ms with a {@link RedisStoreError}.
 *   The client keeps reconnecting on its own; operations succeed again as soon as Redis is back.
 *   A command cut off while the client was offline may still run when it reconnects (ioredis
 *   cannot withdraw a queued command); with `XX` a late save never recreates a destroyed session.
 * - Bad data (not JSON, not an object, no `cookie`, a key of another type) reads as "not found",
 *   the bad key is deleted (best effort) and a `'warning'` event carries an Error describing it
 *   (without a `'warning'` listener it goes to `process.emitWarning`).
 *
 * - Expiry events (`expiryEvents`): sessions Redis expires are reported as `'expired'` events
 *   (`{ sessionId, userId }`), from keyspace notifications on a subscriber connection per server,
 *   by exactly one of the stores sharing the Redis (see `expiry-events.ts`, `expiry-claims.ts`).
 *
 * It does not forward the client's connection events as `'connect'`/`'disconnect'`: the session
 * engine would then skip session handling altogether (express-session behaviour), silently
 * dropping sessions, where a failed operation gives a clear error instead.
 *
 * Every method takes an optional Node-style callback and otherwise returns a promise.
 */
export class RedisStore extends SessionStore {
  /** The client the store sends its commands to (yours; never closed by the store). */
  readonly client: RedisClientLike;
  /** Key prefix. */
  readonly prefix: string;
  /** Key prefix of the per-user index sets (outside `prefix*`, so listings never see them). */
  readonly userPrefix: string;
  /** Default TTL in seconds, or the function computing every TTL. */
  readonly ttl: number | ((session: SessionRecord) => number);
  /** Value format. */
  readonly serializer: RedisStoreSerializer;
  /** Whether `touch` is disabled. */
  readonly disableTouch: boolean;
  /** Whether keys are written without expiry. */
  readonly disableTTL: boolean;
  /** `COUNT` hint of `SCAN`. */
  readonly scanCount: number;
  /** Milliseconds allowed per Redis command (0: no limit). */
  readonly timeout: number;
  /** Whether commands of one event-loop turn are written together (see the option). */
  readonly batchWrites: boolean;
  /** Replicas each write must reach (`WAIT`), 0 for none. */
  readonly waitReplicas: number;
  /** Milliseconds `WAIT` may take. */
  readonly waitTimeout: number;
  /** Whether (and how) expired sessions are reported as `'expired'` events (see the option). */
  readonly expiryEvents: false | 'configure' | 'preconfigured';
  /** Key prefix of the expiry claims and owner records. */
  readonly expiryPrefix: string;
  /**
   * Key prefix of the tombstones a destroy leaves during a Sentinel failover (and for 30 s
   * after), living 60 s: `prefix` without its trailing colon plus `-destroyed:`. They keep a
   * replayed creation from bringing a destroyed session back (see `failoverReplay`).
   */
  readonly tombstonePrefix: string;
  /** The keyspace-notification subscription, with `expiryEvents`. */
  private readonly expiryListener: RedisExpiryListener | undefined;
  /** Follows Sentinel failovers (a Sentinel client with `watchSentinels`). */
  private readonly failoverGuard: SentinelFailoverGuard | undefined;
  /** Sends the commands (timeout, batching, `WAIT`, failover hold). */
  private readonly core: RedisCommandCore;
  /** What the writes (`writes.ts`) work with. */
  private readonly writes: WriteTarget;
  /** Destroys published and heard over pub/sub (see {@link RedisStore.onRevoked}). */
  private readonly revocations: RedisRevocations;

  /** @param options see {@link RedisStoreOptions} */
  constructor(options: RedisStoreOptions) {
    super();
    const o = resolveRedisStoreOptions(options);
    this.client = o.client;
    this.prefix = o.prefix;
    this.userPrefix = o.userPrefix;
    this.ttl = o.ttl;
    this.serializer = o.serializer;
    this.disableTouch = o.disableTouch;
    this.disableTTL = o.disableTTL;
    this.scanCount = o.scanCount;
    this.timeout = o.timeout;
    this.batchWrites = o.batchWrites;
    this.waitReplicas = o.waitReplicas;
    this.waitTimeout = o.waitTimeout;
    this.expiryEvents = o.expiryEvents;
    this.expiryPrefix = o.expiryPrefix;
    this.tombstonePrefix = `${o.prefix.replace(/:$/, '')}-destroyed:`;
    const sentinel = o.watchSentinels ? sentinelSettingsOf(o.client) : undefined;
    this.failoverGuard =
      sentinel &&
      new SentinelFailoverGuard(
        o.client as unknown as ConstructorParameters<typeof SentinelFailoverGuard>[0],
        sentinel,
        (message) => this.warn(message),
        MAX_FAILOVER_HOLD_MS,
        // A write a replica confirmed (`waitReplicas`) survives the failover: nothing to replay.
        typeof o.client.eval === 'function' && o.waitReplicas === 0 ? o.failoverReplay : undefined,
      );
    this.core = new RedisCommandCore({
      client: o.client,
      timeout: o.timeout,
      batchWrites: o.batchWrites,
      waitReplicas: o.waitReplicas,
      waitTimeout: o.waitTimeout,
      failoverGuard: this.failoverGuard,
    });
    this.writes = {
      prefix: this.prefix,
      serializer: this.serializer,
      ttl: this.ttl,
      disableTouch: this.disableTouch,
      disableTTL: this.disableTTL,
      client: this.client,
      core: this.core,
      tombstonePrefix: this.tombstonePrefix,
    };
    this.expiryListener =
      o.expiryEvents === false
        ? undefined
        : new RedisExpiryListener(
            { ...o, mode: o.expiryEvents },
            (sid) => this.reportExpired(sid),
            (message) => this.warn(message),
          );
    this.revocations = new RedisRevocations(o.client, this.prefix, (m) => this.warn(m));
  }

  /**
   * `get`, `set`, `destroy`, `touch` and `patch` send one command each, cut off after `timeout`:
   * the engine needs no timer of its own for them (see `SelfTimedStore`). Listings run several
   * commands, and a custom serializer may be asynchronous: no bound for those.
   */
  answersWithin(method: StoreMethod): number | undefined {
    if (this.timeout <= 0 || !SINGLE_COMMAND.has(method) || this.serializer !== JSON) {
      return undefined;
    }
    return ownOperationBound(this, RedisStore, method, this.timeout);
  }

  /** Reads a session: `undefined` when missing, expired or unreadable (see the class notes). */
  override get(sid: string): Promise<SessionRecord | undefined>;
  override get(sid: string, callback: NodeCallback<SessionRecord | undefined>): void;
  override get(sid: string, callback?: NodeCallback<SessionRecord | undefined>) {
    return answerWith(callback, (done) => this.read(sid, done));
  }

  /**
   * Reads a session and refreshes its expiry in the same command (one `EVALSHA`, see
   * `READ_AND_TOUCH`), so a request that only reads its session costs one command whatever
   * `touchAfter` is. Only a record that exists, has the configured lifetime and has not expired
   * is refreshed (no resurrection, a longer "remember me" record is never shortened); any other
   * is answered as `get` would, and the engine's own touch handles it. With a custom serializer,
   * a `ttl` function, `disableTouch`/`disableTTL` or a client without `evalsha`, this is `get`.
   */
  getAndTouch(sid: string, refresh: ReadRefresh): Promise<SessionRecord | undefined>;
  getAndTouch(
    sid: string,
    refresh: ReadRefresh,
    callback: NodeCallback<SessionRecord | undefined>,
  ): void;
  getAndTouch(
    sid: string,
    refresh: ReadRefresh,
    callback?: NodeCallback<SessionRecord | undefined>,
  ) {
    return answerWith(callback, (done) => this.readRefreshing(sid, refresh, done));
  }

  /**
   * Writes a session with its TTL (`SET key value EX ttl`, plus `XX` for a session read from the
   * store in this request); deletes it instead when it has already expired. Answers `false` when
   * `XX` refused the write (the session was destroyed meanwhile).
   */
  override set(sid: string, session: SessionRecord): Promise<void | false>;
  override set(sid: string, session: SessionRecord, callback: NodeCallback<void | false>): void;
  override set(sid: string, session: SessionRecord, callback?: NodeCallback<void | false>) {
    return answerWith(callback, (done) => writeSession(this.writes, sid, session, done));
  }

  /**
   * Applies a patch (`concurrency: 'merge'`) atomically in one `EVAL`: only the keys this
   * request changed are written, concurrent changes to other keys are kept. With a custom
   * serializer (the patch works on JSON) or a client without `eval`, the whole session is
   * written instead (`SET … XX`). Answers `false` when the session no longer exists.
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
    return settle(callback, patchSession(this.writes, sid, patch, session));
  }

  /** Removes a session (`DEL`). */
  override destroy(sid: string): Promise<void>;
  override destroy(sid: string, callback: NodeCallback): void;
  override destroy(sid: string, callback?: NodeCallback) {
    const key = this.prefix + sid;
    let published: Promise<unknown> | undefined;
    return answerWith(callback, (done) =>
      this.run(
        'destroy',
        (r) => {
          // During a failover, a tombstone first: another instance's replay of this session's
          // creation must not bring it back (see `failoverReplay`; never with `waitReplicas`,
          // whose pipeline expects one write).
          if (this.core.replays && this.core.inFailover) {
            void r.set(this.tombstonePrefix + sid, '1', 'PX', TOMBSTONE_MS).catch(noop);
          }
          const removed = r.del(key);
          // Sent right after the DEL (same round trip): the session's live sockets close.
          published = this.revocations.publish(sid);
          return removed;
        },
        (err) => {
          if (!err) {
            void published?.then((e) => e && this.revocations.warnFailed(e));
            if (this.core.replays) this.core.remember(replayDestroy(this, sid));
          }
          done(err);
        },
      ),
    );
  }

  /**
   * Calls `listener(sid)` on each destroy of a session under this prefix, by any process sharing
   * the Redis (pub/sub on `<prefix>revoked`, over one `duplicate()` connection opened on the
   * first listener and closed by {@link close}).
   */
  onRevoked(listener: (sid: string) => void): RevocationSubscription {
    return this.revocations.subscribe(listener);
  }

  /**
   * Refreshes a session's expiry without rewriting it (`EXPIRE key ttl`; a missing key stays
   * missing, and the answer is `false`). Does nothing with `disableTouch` or `disableTTL`.
   */
  override touch(sid: string, session: SessionRecord): Promise<void | false>;
  override touch(sid: string, session: SessionRecord, callback: NodeCallback<void | false>): void;
  override touch(sid: string, session: SessionRecord, callback?: NodeCallback<void | false>) {
    return answerWith(callback, (done) => refreshSession(this.writes, sid, session, done));
  }

  /** Ids of the stored sessions (`SCAN`, on every master of a Cluster). */
  override ids(): Promise<string[]>;
  override ids(callback: NodeCallback<string[]>): void;
  override ids(callback?: NodeCallback<string[]>) {
    return settle(callback, listIds(this.core, this, 'ids'));
  }

  /** Number of stored sessions (`SCAN`, on every master of a Cluster). */
  override length(): Promise<number>;
  override length(callback: NodeCallback<number>): void;
  override length(callback?: NodeCallback<number>) {
    return settle(
      callback,
      listIds(this.core, this, 'length').then((ids) => ids.length),
    );
  }

  /**
   * The stored sessions as an array, each with its `id` added (connect-redis's shape). Unreadable
   * records are left out.
   */
  override all(): Promise<RedisStoredSession[]>;
  override all(callback: NodeCallback<RedisStoredSession[]>): void;
  override all(callback?: NodeCallback<RedisStoredSession[]>) {
    return settle(
      callback,
      readAll(this.core, this, (message) => this.warn(message)),
    );
  }

  /** Removes every session under this store's prefix (`SCAN` + `DEL`, per key on a Cluster). */
  override clear(): Promise<void>;
  override clear(callback: NodeCallback): void;
  override clear(callback?: NodeCallback) {
    return settle(callback, removeAll(this.core, this));
  }

  /**
   * Per-user index: adds `sid` to the set `userPrefix + userId` (one `EVAL`: `SADD`, and an
   * `EXPIRE` that only ever extends the set to the session's TTL).
   */
  override addUserSession(userId: string, sid: string, session: SessionRecord): Promise<void> {
    const indexed = addUserSession(this.core, this, userId, sid, session);
    if (!this.expiryListener) return indexed;
    // With expiry events, also who owns the session, for its `'expired'` event (one more SET).
    return Promise.all([indexed, recordOwner(this.core, this, userId, sid, session)]).then(
      () => undefined,
    );
  }

  /**
   * Ids of the live sessions of `userId`: `SMEMBERS`, then one `EXISTS` per id (single-key, so
   * Cluster-safe); ids whose session is gone are removed from the set.
   */
  override userSessionIds(userId: string): Promise<string[]> {
    return userSessionIds(this.core, this, userId);
  }

  /**
   * Releases what the store created: the Sentinel event subscriptions and the expiry-event
   * subscriptions, if any (the client is yours, and stays open).
   */
  override close(): void {
    this.failoverGuard?.close();
    this.expiryListener?.close();
    this.revocations.close();
  }

  // --- internals ---

  /** Sends one command and reports once (see {@link RedisCommandCore.run}). */
  private run<T>(operation: string, issue: Issue<T>, done: Answer<T>): void {
    this.core.run(operation, issue, done);
  }

  /** {@link RedisStore.run} as a promise. */
  private command<T>(operation: string, issue: Issue<T>): Promise<T> {
    return this.core.command(operation, issue);
  }

  private read(sid: string, done: NodeCallback<SessionRecord | undefined>): void {
    const key = this.prefix + sid;
    this.run(
      'get',
      () => this.client.get(key),
      (err, raw) => this.receive(key, err, raw, done),
    );
  }

  private readRefreshing(
    sid: string,
    refresh: ReadRefresh,
    done: NodeCallback<SessionRecord | undefined>,
  ): void {
    const c = this.client;
    if (
      this.serializer !== JSON ||
      typeof this.ttl === 'function' ||
      this.disableTouch ||
      this.disableTTL ||
      typeof c.evalsha !== 'function' ||
      typeof c.eval !== 'function'
    ) {
      return this.read(sid, done);
    }
    const key = this.prefix + sid;
    const args = readRefreshArgs(refresh, Date.now(), this.ttl);
    this.run(
      'get',
      (r) => readAndTouch(r, key, args),
      (err, reply) => {
        // On a replica (a failover under way) the refresh cannot write: read without it.
        if (err && /^READONLY\b/.test(messageOf(err.cause))) return this.read(sid, done);
        if (err || !reply) return this.receive(key, err, null, done);
        if (reply[0] === 1) refresh.refreshed = true;
        this.receive(key, undefined, reply[1], done);
      },
    );
  }

  /** Turns a read's reply into the session, "not found", or the error. */
  private receive(
    key: string,
    err: RedisStoreError | undefined,
    raw: string | null | undefined,
    done: NodeCallback<SessionRecord | undefined>,
  ): void {
    if (err) {
      const cause = err.cause;
      if (!/^WRONGTYPE\b/.test(messageOf(cause))) return done(err);
      this.discard(key, `holds a Redis value of the wrong type (${messageOf(cause)})`);
      return done(null, undefined);
    }
    if (raw === null || raw === undefined) return done(null, undefined);
    const parsed = decodeRecord(this.serializer, raw);
    if (!isThenable(parsed)) return this.accept(key, parsed, done);
    // decode's promise never rejects (a parse failure resolves to the reason).
    void (parsed as Promise<SessionRecord | string>).then((result) =>
      this.accept(key, result, done),
    );
  }

  /** Hands a decoded record to `done`, or discards an unusable one (read as "not found"). */
  private accept(
    key: string,
    session: SessionRecord | string,
    done: NodeCallback<SessionRecord | undefined>,
  ): void {
    if (typeof session === 'string') {
      this.discard(key, session);
      return done(null, undefined);
    }
    // The stored cookie's `expires` is not checked: Redis's TTL is what expires a session (a
    // record touched by connect-redis has a stale `expires`).
    done(null, session);
  }

  /**
   * A session key expired in Redis: emits `'expired'` if this store is the first sharing this
   * Redis to claim it (so one instance reports each expiry), with the recorded user.
   */
  private reportExpired(sid: string): void {
    claimExpiry(this.core, this, sid).then(
      (claim) => {
        if (!claim) return;
        const event: StoreExpiredEvent =
          claim.userId === undefined
            ? { sessionId: sid }
            : { sessionId: sid, userId: claim.userId };
        this.emit(STORE_EXPIRED_EVENT, event);
      },
      (err: unknown) =>
        this.warn(
          `the expiry of session ${sid} could not be claimed (${messageOf(err)}); not reported`,
        ),
    );
  }

  /** Best-effort removal of an unusable record, reported as a `'warning'`. */
  private discard(key: string, problem: string): void {
    this.warn(`the session record ${key} ${problem}; it was removed`);
    this.command('get', () => this.client.del(key)).catch(noop);
  }

  /** Emits a `'warning'` (an Error), or hands it to `process.emitWarning` when nobody listens. */
  private warn(message: string): void {
    const warning = new Error(`RedisStore: ${message}`);
    warning.name = 'RedisStoreWarning';
    if (this.listenerCount('warning') > 0) this.emit('warning', warning);
    else process.emitWarning(warning);
  }
}
