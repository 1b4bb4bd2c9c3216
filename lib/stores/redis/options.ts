import type { SessionRecord } from '../../engine/session-data';
import type { RedisClientLike } from './redis-client';

/** How sessions are turned into Redis values and back (default: `JSON`). */
export interface RedisStoreSerializer {
  /** Turns a stored value back into a session (may return a promise). */
  parse(text: string): unknown;
  /** Turns a session (its cookie included, through `Cookie#toJSON`) into the stored value. */
  stringify(session: SessionRecord): string;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * Your ioredis client: a standalone `Redis`, a Sentinel-configured `Redis`, or a `Cluster`.
   * The store never connects, closes or quits it.
   */
  client: RedisClientLike;
  /**
   * Key prefix of the per-user index sets (`userPrefix + userId`). Default: `prefix` without its
   * trailing colon plus `-user:` (`'sess-user:'`); it must not start with `prefix`.
   */
  userPrefix?: string;
  /** Key prefix: a session is stored under `prefix + sessionId`. Default `'sess:'`. */
  prefix?: string;
  /**
   * Lifetime in seconds of a session whose cookie has no expiry (a browser-session cookie).
   * Default 86 400 (one day). A function of the session decides the TTL of every session, also of
   * those with an expiry (as in connect-redis); a result `<= 0` deletes the session.
   */
  ttl?: number | ((session: SessionRecord) => number);
  /** Value format. Default `JSON` (the connect-redis format). */
  serializer?: RedisStoreSerializer;
  /** `touch` does nothing (no `EXPIRE`): the expiry only moves when the session is saved. */
  disableTouch?: boolean;
  /** Keys get no expiry at all (`SET` without `EX`); `touch` does nothing. */
  disableTTL?: boolean;
  /** `COUNT` hint of each `SCAN` batch in `ids`/`all`/`length`/`clear`. Default 100. */
  scanCount?: number;
  /**
   * Milliseconds each Redis command may take before the operation fails with a
   * {@link RedisStoreError} (`code: 'ESTORETIMEOUT'`). Default 2000; `0` or `Infinity` waits
   * as long as the client does (ioredis: about 10 s when Redis is down, forever when it is frozen).
   */
  timeout?: number;
  /**
   * Writes the commands issued during one turn of the event loop to the client's socket together,
   * at the end of that turn (the socket is corked, then uncorked in `setImmediate`): one system
   * call for all of them instead of one each, which under load is the largest single cost of a
   * Redis-backed session. Commands, replies and errors are unchanged; each command leaves at most
   * one turn later. Default `true`; `false` writes every command at once.
   */
  batchWrites?: boolean;
  /**
   * With a Sentinel-configured client (`sentinels` + `name`): follow failovers. The store
   * subscribes to every sentinel's events, holds its writes while a failover of the master runs,
   * reconnects the client when the primary switches and sends the held writes only once the
   * connection is verified to be on the new primary (a write answered `-READONLY` is held and
   * sent again the same way). Without it, an ioredis client keeps writing to the old primary until
   * Sentinel demotes it (10–20 s), and every write acknowledged meanwhile is lost. Default `true`
   * for a Sentinel client; ignored for other clients.
   */
  watchSentinels?: boolean;
  /**
   * With `watchSentinels`: recover the writes a failover would lose. Redis replicates
   * asynchronously, so the writes the old primary acknowledged in its last moments (those in
   * flight when the failover starts, more when a replica reads its stream late) can be missing
   * on the replica Sentinel promotes. The store remembers the writes it acknowledged in the last
   * `windowMs` (at most `maxWrites`, the oldest dropped first) and, once the new primary is
   * verified, sends those acknowledged within `windowMs` before the failover started (before the
   * connection dropped, for a primary that died) again, before the held writes. Each replay is
   * one `EVAL` that writes only where the write is missing and nothing was written since, so
   * instances replaying at once never undo each other's newer writes. Default
   * `{ windowMs: 2000, maxWrites: 10000 }`; `false` turns it off. Not used with `waitReplicas`
   * (a confirmed write survives the failover).
   */
  failoverReplay?: false | { windowMs?: number; maxWrites?: number };
  /**
   * Durability: after each write (`set`, `patch`, `touch`, `destroy`, the per-user index,
   * `clear`) send `WAIT waitReplicas waitTimeout`, and fail the write (a
   * {@link RedisStoreError}, so a 503 in Nest: not acknowledged) unless that many replicas
   * confirmed it in time. Redis replicates asynchronously; with this, a failover loses no write
   * the store acknowledged. Default `0` (off). On a Cluster, `WAIT` goes to the key's master.
   */
  waitReplicas?: number;
  /**
   * Milliseconds `WAIT` may take (with `waitReplicas`). Default 1000 (or half of `timeout` when
   * that is shorter); must be below `timeout`.
   */
  waitTimeout?: number;
  /**
   * Report sessions that expire in Redis as `'expired'` events (the module's `expired` hook and
   * `session.expired`), from Redis keyspace notifications: the store subscribes to
   * `__keyevent@<db>__:expired` on its own connection (on a Cluster, one per node), and each
   * expiry is reported by exactly one store sharing this Redis (a `SET NX` claim per session).
   * - `'configure'`: the store turns the notifications on itself, with `CONFIG SET
   *   notify-keyspace-events` (adding `Ex` to what is set), on every node, again after a
   *   reconnect (a restarted server forgets it). Managed services that forbid `CONFIG` need:
   * - `'preconfigured'`: the server already has `notify-keyspace-events` including `E` and `x`
   *   (or `A`); the store only subscribes (and warns when `CONFIG GET` shows it is not set).
   * Default `false`: no subscription, no extra key.
   */
  expiryEvents?: false | 'configure' | 'preconfigured';
  /**
   * Key prefix of the expiry bookkeeping (with `expiryEvents`): `<expiryPrefix>claim:<id>` (the
   * claim, 5 minutes) and `<expiryPrefix>owner:<id>` (the session's user, written with the
   * per-user index, living an hour longer than the session). Default: `prefix` without its
   * trailing colon plus `-expiry:` (`'sess-expiry:'`); it must not start with `prefix`.
   */
  expiryPrefix?: string;
}

/** A session as {@link RedisStore.all} returns it: the stored record plus its `id`. */
export type RedisStoredSession = SessionRecord & { id: string };

const DEFAULT_PREFIX = 'sess:';
const DEFAULT_TTL = 86_400;
const DEFAULT_SCAN_COUNT = 100;
const DEFAULT_TIMEOUT = 2_000;
const DEFAULT_WAIT_TIMEOUT = 1_000;
const DEFAULT_REPLAY_WINDOW_MS = 2_000;
const DEFAULT_REPLAY_MAX_WRITES = 10_000;

/** {@link RedisStoreOptions} validated, with their defaults. @internal */
export interface ResolvedRedisStoreOptions {
  readonly client: RedisClientLike;
  readonly prefix: string;
  readonly userPrefix: string;
  readonly ttl: number | ((session: SessionRecord) => number);
  readonly serializer: RedisStoreSerializer;
  readonly disableTouch: boolean;
  readonly disableTTL: boolean;
  readonly scanCount: number;
  /** Milliseconds per command; 0: no limit. */
  readonly timeout: number;
  readonly batchWrites: boolean;
  readonly waitReplicas: number;
  readonly waitTimeout: number;
  /** `watchSentinels` is not `false`. */
  readonly watchSentinels: boolean;
  /** `failoverReplay` with its defaults; `undefined` when off. */
  readonly failoverReplay: { windowMs: number; maxWrites: number } | undefined;
  readonly expiryEvents: false | 'configure' | 'preconfigured';
  readonly expiryPrefix: string;
}

/** Validates the options (a TypeError naming the option) and applies the defaults. @internal */
export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  const o = (options ?? {}) as Partial<RedisStoreOptions>;
  const client = o.client as Partial<RedisClientLike> | undefined;
  if (!client || typeof client.get !== 'function' || typeof client.set !== 'function') {
    throw new TypeError('RedisStore option client must be an ioredis Redis or Cluster instance');
  }
  if (o.prefix !== undefined && typeof o.prefix !== 'string') {
    throw new TypeError('RedisStore option prefix must be a string');
  }
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  if (o.userPrefix !== undefined && typeof o.userPrefix !== 'string') {
    throw new TypeError('RedisStore option userPrefix must be a string');
  }
  const userPrefix = o.userPrefix ?? `${prefix.replace(/:$/, '')}-user:`;
  if (userPrefix.startsWith(prefix)) {
    throw new TypeError(
      'RedisStore option userPrefix must not start with prefix (listings would see it)',
    );
  }
  const ttl = o.ttl ?? DEFAULT_TTL;
  if (typeof ttl !== 'function' && !(typeof ttl === 'number' && ttl > 0 && Number.isFinite(ttl))) {
    throw new TypeError('RedisStore option ttl must be a number of seconds > 0 or a function');
  }
  const serializer = o.serializer ?? JSON;
  if (typeof serializer.parse !== 'function' || typeof serializer.stringify !== 'function') {
    throw new TypeError('RedisStore option serializer must have parse and stringify functions');
  }
  const scanCount = o.scanCount ?? DEFAULT_SCAN_COUNT;
  if (!Number.isInteger(scanCount) || scanCount < 1) {
    throw new TypeError('RedisStore option scanCount must be an integer >= 1');
  }
  const requested = o.timeout ?? DEFAULT_TIMEOUT;
  if (typeof requested !== 'number' || !(requested >= 0)) {
    throw new TypeError('RedisStore option timeout must be a number of milliseconds >= 0');
  }
  const timeout = Number.isFinite(requested) ? requested : 0;
  if (o.batchWrites !== undefined && typeof o.batchWrites !== 'boolean') {
    throw new TypeError('RedisStore option batchWrites must be a boolean');
  }
  const waitReplicas = o.waitReplicas ?? 0;
  if (!Number.isInteger(waitReplicas) || waitReplicas < 0) {
    throw new TypeError('RedisStore option waitReplicas must be an integer >= 0');
  }
  const waitTimeout =
    o.waitTimeout ??
    (timeout > 0 ? Math.min(DEFAULT_WAIT_TIMEOUT, Math.floor(timeout / 2)) : DEFAULT_WAIT_TIMEOUT);
  if (!Number.isInteger(waitTimeout) || waitTimeout < 1) {
    throw new TypeError('RedisStore option waitTimeout must be an integer number of ms >= 1');
  }
  if (waitReplicas > 0 && timeout > 0 && waitTimeout >= timeout) {
    throw new TypeError(
      `RedisStore option waitTimeout (${waitTimeout} ms) must be below timeout (${timeout} ms)`,
    );
  }
  if (waitReplicas > 0 && typeof client.pipeline !== 'function') {
    throw new TypeError('RedisStore option waitReplicas needs a client with pipeline()');
  }
  if (o.watchSentinels !== undefined && typeof o.watchSentinels !== 'boolean') {
    throw new TypeError('RedisStore option watchSentinels must be a boolean');
  }
  const failoverReplay = replayOptionsOf(o.failoverReplay);
  const expiryEvents = o.expiryEvents ?? false;
  if (expiryEvents !== false && expiryEvents !== 'configure' && expiryEvents !== 'preconfigured') {
    throw new TypeError(
      "RedisStore option expiryEvents must be false, 'configure' or 'preconfigured'",
    );
  }
  if (o.expiryPrefix !== undefined && typeof o.expiryPrefix !== 'string') {
    throw new TypeError('RedisStore option expiryPrefix must be a string');
  }
  const expiryPrefix = o.expiryPrefix ?? `${prefix.replace(/:$/, '')}-expiry:`;
  if (expiryPrefix.startsWith(prefix) || expiryPrefix === userPrefix) {
    throw new TypeError(
      'RedisStore option expiryPrefix must not start with prefix nor equal userPrefix',
    );
  }
  if (expiryEvents && typeof (client as { duplicate?: unknown }).duplicate !== 'function') {
    throw new TypeError('RedisStore option expiryEvents needs an ioredis client (duplicate())');
  }
  return {
    client: client as RedisClientLike,
    prefix,
    userPrefix,
    ttl,
    serializer,
    disableTouch: Boolean(o.disableTouch),
    disableTTL: Boolean(o.disableTTL),
    scanCount,
    timeout,
    batchWrites: o.batchWrites ?? true,
    waitReplicas,
    waitTimeout,
    watchSentinels: o.watchSentinels !== false,
    failoverReplay,
    expiryEvents,
    expiryPrefix,
  };
}

/** The `failoverReplay` option validated, with its defaults (`undefined`: off). */
function replayOptionsOf(
  option: RedisStoreOptions['failoverReplay'],
): { windowMs: number; maxWrites: number } | undefined {
  if (option === false) return undefined;
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new TypeError(
      'RedisStore option failoverReplay must be false or { windowMs?, maxWrites? }',
    );
  }
  const windowMs = option?.windowMs ?? DEFAULT_REPLAY_WINDOW_MS;
  if (!Number.isInteger(windowMs) || windowMs < 1) {
    throw new TypeError(
      'RedisStore option failoverReplay.windowMs must be an integer number of ms >= 1',
    );
  }
  const maxWrites = option?.maxWrites ?? DEFAULT_REPLAY_MAX_WRITES;
  if (!Number.isInteger(maxWrites) || maxWrites < 1) {
    throw new TypeError('RedisStore option failoverReplay.maxWrites must be an integer >= 1');
  }
  return { windowMs, maxWrites };
}
