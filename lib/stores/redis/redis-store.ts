import type { NodeCallback } from '../../engine/node-callback';
import { noop } from '../../engine/node-callback';
import type { SessionRecord } from '../../engine/session-data';
import { isStoredSession, storedRecordOf } from '../../engine/session-origin';
import type { SessionPatch } from '../../engine/session-patch';
import { type Deadline, DeadlineQueue } from './deadline-queue';
import type { RedisClientLike, RedisCommands, RedisPipeline } from './redis-client';
import { SentinelFailoverGuard, sentinelSettingsOf } from './failover-guard';
import { SessionStore } from '../session-store';
import { ownOperationBound, type StoreMethod } from '../../engine/store/store-call';

/** How sessions are turned into Redis values and back (default: `JSON`). */
export interface RedisStoreSerializer {
  /** Turns a stored value back into a session (may return a promise). */
  parse(text: string): unknown;
  /** Turns a session (its cookie included, through `Cookie#toJSON`) into the stored value. */
  stringify(session: SessionRecord): string;
}

/**
 * `touch` of a session read in this request: rewrite the record (new cookie expiry, same data)
 * only if it is still byte-for-byte what was read; otherwise leave it (whoever changed it wrote a
 * fresh expiry). A missing key stays missing.
 */
const TOUCH_IF_UNCHANGED = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;

/**
 * Per-user index: add a session id to the user's set and make the set live at least as long as
 * the session (`EXPIRE` only ever extends it).
 */
const ADD_USER_SESSION = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1`;

/**
 * `concurrency: 'merge'`: applies a patch to the stored JSON atomically. The top level of the
 * stored object is split into raw key/value substrings (values are never re-encoded, so nothing
 * the store holds is altered), the changed keys are replaced or appended, the deleted ones
 * dropped, and the cookie replaced. A missing key stays missing (no resurrection).
 * KEYS[1]: the session key; ARGV: cookie JSON, TTL seconds ('' keeps the TTL), the number N of
 * set pairs, N pairs of (JSON key, JSON value), then the JSON keys to delete.
 */
const PATCH_SESSION = `
local json = redis.call('GET', KEYS[1])
if not json then return 0 end
local n, i = #json, 1
local function ws()
  while i <= n do
    local b = string.byte(json, i)
    if b == 32 or b == 9 or b == 10 or b == 13 then i = i + 1 else return end
  end
end
local function str()
  local s = i
  i = i + 1
  while i <= n do
    local b = string.byte(json, i)
    if b == 92 then i = i + 2
    elseif b == 34 then i = i + 1; return string.sub(json, s, i - 1)
    else i = i + 1 end
  end
  error('unterminated JSON string')
end
local function value()
  local s = i
  local b = string.byte(json, i)
  if b == 34 then return str() end
  if b == 123 or b == 91 then
    local depth = 0
    while i <= n do
      b = string.byte(json, i)
      if b == 34 then str()
      else
        if b == 123 or b == 91 then depth = depth + 1
        elseif b == 125 or b == 93 then depth = depth - 1 end
        i = i + 1
        if depth == 0 then return string.sub(json, s, i - 1) end
      end
    end
    error('unterminated JSON value')
  end
  while i <= n do
    b = string.byte(json, i)
    if b == 44 or b == 125 or b == 32 or b == 9 or b == 10 or b == 13 then break end
    i = i + 1
  end
  return string.sub(json, s, i - 1)
end
local keys, vals, index = {}, {}, {}
ws()
if string.byte(json, i) ~= 123 then return redis.error_reply('stored session is not a JSON object') end
i = i + 1
ws()
if string.byte(json, i) == 125 then i = i + 1 else
  while true do
    ws()
    local k = str()
    ws()
    i = i + 1
    ws()
    local v = value()
    keys[#keys + 1] = k
    vals[#vals + 1] = v
    index[k] = #keys
    ws()
    local b = string.byte(json, i)
    i = i + 1
    if b == 125 then break end
    if b ~= 44 then return redis.error_reply('stored session is malformed JSON') end
  end
end
local function put(k, v)
  local at = index[k]
  if at then vals[at] = v else
    keys[#keys + 1] = k
    vals[#vals + 1] = v
    index[k] = #keys
  end
end
put('"cookie"', ARGV[1])
local a = 4
for _ = 1, tonumber(ARGV[3]) do
  put(ARGV[a], ARGV[a + 1])
  a = a + 2
end
local removed = {}
for j = a, #ARGV do removed[ARGV[j]] = true end
local parts = {}
for j = 1, #keys do
  if not removed[keys[j]] then parts[#parts + 1] = keys[j] .. ':' .. vals[j] end
end
local out = '{' .. table.concat(parts, ',') .. '}'
if ARGV[2] == '' then redis.call('SET', KEYS[1], out, 'KEEPTTL')
else redis.call('SET', KEYS[1], out, 'EX', ARGV[2]) end
return 1`;

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
}

/** A session as {@link RedisStore.all} returns it: the stored record plus its `id`. */
export type RedisStoredSession = SessionRecord & { id: string };

/**
 * The error every failing {@link RedisStore} operation reports: its message names the operation
 * (`'RedisStore get failed: …'`), `cause` is the client's error when there is one.
 */
export class RedisStoreError extends Error {
  /** `'ESTORETIMEOUT'` when Redis did not answer in time, else `'ESTOREFAILED'`. */
  readonly code: 'ESTORETIMEOUT' | 'ESTOREFAILED';

  /**
   * @param operation the store method that failed (`get`, `set`, `touch`, `destroy`, `ids`, …)
   * @param detail what went wrong
   * @param options `cause`: the underlying error; `timedOut`: Redis did not answer in time
   */
  constructor(
    readonly operation: string,
    detail: string,
    options: { cause?: unknown; timedOut?: boolean } = {},
  ) {
    super(
      `RedisStore ${operation} failed: ${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'RedisStoreError';
    this.code = options.timedOut ? 'ESTORETIMEOUT' : 'ESTOREFAILED';
  }
}

const DEFAULT_PREFIX = 'sess:';
const DEFAULT_TTL = 86_400;
const DEFAULT_SCAN_COUNT = 100;
const DEFAULT_TIMEOUT = 2_000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Escapes the glob characters of a literal key prefix for `SCAN … MATCH`. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Epoch milliseconds of a cookie `expires` (Date, ISO string or number), NaN when absent/invalid. */
function expiryOf(session: SessionRecord): number {
  const expires = (session.cookie as { expires?: unknown } | undefined)?.expires;
  if (expires instanceof Date) return expires.getTime();
  if (typeof expires === 'string' || typeof expires === 'number')
    return new Date(expires).getTime();
  return NaN;
}

/** Reports to the callback (on a later tick) or returns the promise (marked handled). */
function settle<T>(
  callback: NodeCallback<T> | undefined,
  promise: Promise<T>,
): Promise<T> | undefined {
  if (typeof callback === 'function') {
    promise.then(
      (result) => process.nextTick(callback, null, result),
      (err: unknown) => process.nextTick(callback, err),
    );
    return undefined;
  }
  // A caller that never awaits (e.g. `session.destroy()` without callback) cannot crash the process.
  promise.catch(noop);
  return promise;
}

/** A command's answer: its error (always a {@link RedisStoreError}) or its value. */
type Answer<T> = (err: RedisStoreError | undefined, value?: T) => void;

/** Sends one command to the client it is given (the store's client, or a pipeline of it). */
type Issue<T> = (client: RedisCommands & RedisClientLike) => Promise<T>;

/**
 * Calls a caller's callback from inside a promise reaction: an exception it throws is re-thrown
 * on a clean stack (as an uncaught exception, like any callback's), not turned into a rejection.
 */
function deliver<T>(callback: NodeCallback<T>, err: unknown, value?: T): void {
  try {
    if (err) callback(err);
    else callback(null, value);
  } catch (thrown) {
    process.nextTick(() => {
      throw thrown;
    });
  }
}

/**
 * The hot operations' callback core, exposed either way: with the caller's callback (called
 * once, never synchronously) or as a promise (marked handled).
 */
function answerWith<T>(
  callback: NodeCallback<T> | undefined,
  start: (done: NodeCallback<T>) => void,
): Promise<T> | undefined {
  if (typeof callback === 'function') {
    start((err, value) => deliver(callback, err, value));
    return undefined;
  }
  const promise = new Promise<T>((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value as T)));
  });
  promise.catch(noop);
  return promise;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A socket whose writes can be held back (`net.Socket`, `tls.TLSSocket`). */
interface Corkable {
  cork(): void;
  uncork(): void;
  writable: boolean;
}

function isCorkable(stream: unknown): stream is Corkable {
  return (
    typeof stream === 'object' &&
    stream !== null &&
    typeof (stream as Corkable).cork === 'function' &&
    typeof (stream as Corkable).uncork === 'function' &&
    (stream as Corkable).writable === true
  );
}

/** The raw value a record object was parsed from (for the compare-and-set touch). */
const RAW_VALUE = Symbol('nest-session.redisRawValue');

type ParsedRecord = SessionRecord & { [RAW_VALUE]?: string };

/** A parsed value as a session record (remembering its raw value), or why it is unusable. */
function checkRecord(value: unknown, raw: string): SessionRecord | string {
  if (!isObject(value)) return 'is not a session object';
  if (!isObject(value.cookie)) return 'has no cookie object';
  // Non-enumerable: invisible to deep equality, spreads and Object.assign.
  Object.defineProperty(value, RAW_VALUE, { value: raw, configurable: true });
  return value as SessionRecord;
}

/**
 * The operations that change Redis: held during a Sentinel failover, confirmed with `WAIT` when
 * `waitReplicas` is set.
 */
const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'set',
  'patch',
  'touch',
  'destroy',
  'addUserSession',
  'clear',
]);

/** The longest writes are held during a Sentinel failover without news of its end. */
const MAX_FAILOVER_HOLD_MS = 10_000;

const DEFAULT_WAIT_TIMEOUT = 1_000;

/** The operations bounded by one command each (so by `timeout`). */
const SINGLE_COMMAND: ReadonlySet<StoreMethod> = new Set([
  'get',
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
 *   `touch` = `EXPIRE`, `destroy` = `DEL`. Listing (`ids`/`all`/`length`/`clear`) uses `SCAN`
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
  /** The sockets held corked until the end of this event-loop turn. */
  private held: Corkable[] | undefined;
  /** Cuts off late commands (one timer for all of them), when `timeout` is set. */
  private readonly deadlines: DeadlineQueue | undefined;
  /** Replicas each write must reach (`WAIT`), 0 for none. */
  readonly waitReplicas: number;
  /** Milliseconds `WAIT` may take. */
  readonly waitTimeout: number;
  /** Follows Sentinel failovers (a Sentinel client with `watchSentinels`). */
  private readonly failoverGuard: SentinelFailoverGuard | undefined;

  /** @param options see {@link RedisStoreOptions} */
  constructor(options: RedisStoreOptions) {
    super();
    const o = (options ?? {}) as Partial<RedisStoreOptions>;
    const client = o.client as Partial<RedisClientLike> | undefined;
    if (!client || typeof client.get !== 'function' || typeof client.set !== 'function') {
      throw new TypeError('RedisStore option client must be an ioredis Redis or Cluster instance');
    }
    this.client = client as RedisClientLike;
    if (o.prefix !== undefined && typeof o.prefix !== 'string') {
      throw new TypeError('RedisStore option prefix must be a string');
    }
    this.prefix = o.prefix ?? DEFAULT_PREFIX;
    if (o.userPrefix !== undefined && typeof o.userPrefix !== 'string') {
      throw new TypeError('RedisStore option userPrefix must be a string');
    }
    this.userPrefix = o.userPrefix ?? `${this.prefix.replace(/:$/, '')}-user:`;
    if (this.userPrefix.startsWith(this.prefix)) {
      throw new TypeError(
        'RedisStore option userPrefix must not start with prefix (listings would see it)',
      );
    }
    const ttl = o.ttl ?? DEFAULT_TTL;
    if (
      typeof ttl !== 'function' &&
      !(typeof ttl === 'number' && ttl > 0 && Number.isFinite(ttl))
    ) {
      throw new TypeError('RedisStore option ttl must be a number of seconds > 0 or a function');
    }
    this.ttl = ttl;
    const serializer = o.serializer ?? JSON;
    if (typeof serializer.parse !== 'function' || typeof serializer.stringify !== 'function') {
      throw new TypeError('RedisStore option serializer must have parse and stringify functions');
    }
    this.serializer = serializer;
    this.disableTouch = Boolean(o.disableTouch);
    this.disableTTL = Boolean(o.disableTTL);
    const scanCount = o.scanCount ?? DEFAULT_SCAN_COUNT;
    if (!Number.isInteger(scanCount) || scanCount < 1) {
      throw new TypeError('RedisStore option scanCount must be an integer >= 1');
    }
    this.scanCount = scanCount;
    const timeout = o.timeout ?? DEFAULT_TIMEOUT;
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      throw new TypeError('RedisStore option timeout must be a number of milliseconds >= 0');
    }
    this.timeout = Number.isFinite(timeout) ? timeout : 0;
    this.deadlines = this.timeout > 0 ? new DeadlineQueue(this.timeout) : undefined;
    if (o.batchWrites !== undefined && typeof o.batchWrites !== 'boolean') {
      throw new TypeError('RedisStore option batchWrites must be a boolean');
    }
    this.batchWrites = o.batchWrites ?? true;
    const waitReplicas = o.waitReplicas ?? 0;
    if (!Number.isInteger(waitReplicas) || waitReplicas < 0) {
      throw new TypeError('RedisStore option waitReplicas must be an integer >= 0');
    }
    this.waitReplicas = waitReplicas;
    const waitTimeout =
      o.waitTimeout ??
      (this.timeout > 0
        ? Math.min(DEFAULT_WAIT_TIMEOUT, Math.floor(this.timeout / 2))
        : DEFAULT_WAIT_TIMEOUT);
    if (!Number.isInteger(waitTimeout) || waitTimeout < 1) {
      throw new TypeError('RedisStore option waitTimeout must be an integer number of ms >= 1');
    }
    if (waitReplicas > 0 && this.timeout > 0 && waitTimeout >= this.timeout) {
      throw new TypeError(
        `RedisStore option waitTimeout (${waitTimeout} ms) must be below timeout (${this.timeout} ms)`,
      );
    }
    this.waitTimeout = waitTimeout;
    if (waitReplicas > 0 && typeof this.client.pipeline !== 'function') {
      throw new TypeError('RedisStore option waitReplicas needs a client with pipeline()');
    }
    if (o.watchSentinels !== undefined && typeof o.watchSentinels !== 'boolean') {
      throw new TypeError('RedisStore option watchSentinels must be a boolean');
    }
    const sentinel = o.watchSentinels === false ? undefined : sentinelSettingsOf(client);
    this.failoverGuard =
      sentinel &&
      new SentinelFailoverGuard(
        client as unknown as ConstructorParameters<typeof SentinelFailoverGuard>[0],
        sentinel,
        (message) => this.warn(message),
        MAX_FAILOVER_HOLD_MS,
      );
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
   * Writes a session with its TTL (`SET key value EX ttl`, plus `XX` for a session read from the
   * store in this request); deletes it instead when it has already expired.
   */
  override set(sid: string, session: SessionRecord): Promise<void>;
  override set(sid: string, session: SessionRecord, callback: NodeCallback): void;
  override set(sid: string, session: SessionRecord, callback?: NodeCallback) {
    return answerWith(callback, (done) => this.write(sid, session, done));
  }

  /**
   * Applies a patch (`concurrency: 'merge'`) atomically in one `EVAL`: only the keys this
   * request changed are written, concurrent changes to other keys are kept. With a custom
   * serializer (the patch works on JSON) or a client without `eval`, the whole session is
   * written instead (`SET … XX`).
   */
  patch(sid: string, patch: SessionPatch, session: SessionRecord): Promise<void>;
  patch(sid: string, patch: SessionPatch, session: SessionRecord, callback: NodeCallback): void;
  patch(sid: string, patch: SessionPatch, session: SessionRecord, callback?: NodeCallback) {
    return settle(callback, this.applyPatch(sid, patch, session));
  }

  /** Removes a session (`DEL`). */
  override destroy(sid: string): Promise<void>;
  override destroy(sid: string, callback: NodeCallback): void;
  override destroy(sid: string, callback?: NodeCallback) {
    const key = this.prefix + sid;
    return answerWith(callback, (done) =>
      this.run(
        'destroy',
        (r) => r.del(key),
        (err) => done(err),
      ),
    );
  }

  /**
   * Refreshes a session's expiry without rewriting it (`EXPIRE key ttl`; a missing key stays
   * missing). Does nothing with `disableTouch` or `disableTTL`.
   */
  override touch(sid: string, session: SessionRecord): Promise<void>;
  override touch(sid: string, session: SessionRecord, callback: NodeCallback): void;
  override touch(sid: string, session: SessionRecord, callback?: NodeCallback) {
    return answerWith(callback, (done) => this.refresh(sid, session, done));
  }

  /** Ids of the stored sessions (`SCAN`, on every master of a Cluster). */
  override ids(): Promise<string[]>;
  override ids(callback: NodeCallback<string[]>): void;
  override ids(callback?: NodeCallback<string[]>) {
    return settle(callback, this.listIds('ids'));
  }

  /** Number of stored sessions (`SCAN`, on every master of a Cluster). */
  override length(): Promise<number>;
  override length(callback: NodeCallback<number>): void;
  override length(callback?: NodeCallback<number>) {
    return settle(
      callback,
      this.listIds('length').then((ids) => ids.length),
    );
  }

  /**
   * The stored sessions as an array, each with its `id` added (connect-redis's shape). Unreadable
   * records are left out.
   */
  all(): Promise<RedisStoredSession[]>;
  all(callback: NodeCallback<RedisStoredSession[]>): void;
  all(callback?: NodeCallback<RedisStoredSession[]>) {
    return settle(callback, this.readAll());
  }

  /** Removes every session under this store's prefix (`SCAN` + `DEL`, per key on a Cluster). */
  override clear(): Promise<void>;
  override clear(callback: NodeCallback): void;
  override clear(callback?: NodeCallback) {
    return settle(callback, this.removeAll());
  }

  /**
   * Per-user index: adds `sid` to the set `userPrefix + userId` (one `EVAL`: `SADD`, and an
   * `EXPIRE` that only ever extends the set to the session's TTL).
   */
  override async addUserSession(
    userId: string,
    sid: string,
    session: SessionRecord,
  ): Promise<void> {
    const c = this.client;
    if (typeof c.eval !== 'function')
      throw new RedisStoreError('addUserSession', 'the client has no eval()');
    let ttl = this.disableTTL ? undefined : this.ttlOf(session);
    if (ttl === undefined || ttl <= 0)
      ttl = typeof this.ttl === 'number' ? Math.ceil(this.ttl) : 86_400;
    const key = this.userPrefix + userId;
    const seconds = ttl;
    await this.command('addUserSession', (r) =>
      (r.eval as NonNullable<RedisCommands['eval']>)(ADD_USER_SESSION, 1, key, sid, seconds),
    );
  }

  /**
   * Ids of the live sessions of `userId`: `SMEMBERS`, then one `EXISTS` per id (single-key, so
   * Cluster-safe); ids whose session is gone are removed from the set.
   */
  override async userSessionIds(userId: string): Promise<string[]> {
    const c = this.client;
    if (!c.smembers || !c.exists || !c.srem) {
      throw new RedisStoreError('userSessionIds', 'the client lacks smembers/exists/srem');
    }
    const key = this.userPrefix + userId;
    const ids = await this.command('userSessionIds', () =>
      (c.smembers as NonNullable<RedisCommands['smembers']>)(key),
    );
    const alive = await Promise.all(
      ids.map((sid) =>
        this.command('userSessionIds', () =>
          (c.exists as NonNullable<RedisCommands['exists']>)(this.prefix + sid),
        ),
      ),
    );
    const dead = ids.filter((_, i) => alive[i] === 0);
    if (dead.length > 0) {
      await this.command('userSessionIds', () =>
        (c.srem as NonNullable<RedisCommands['srem']>)(key, ...dead),
      );
    }
    return ids.filter((_, i) => alive[i] !== 0);
  }

  /**
   * Releases what the store created: the Sentinel event subscriptions, if any (the client is
   * yours, and stays open).
   */
  override close(): void {
    this.failoverGuard?.close();
  }

  // --- internals ---

  /**
   * Sends one Redis command (`issue` calls the client it is given) and reports exactly once to
   * `done`: the reply, or a {@link RedisStoreError} (the client's error as `cause`, a timeout
   * after `timeout` ms, or a write `WAIT` found unreplicated). Never reports synchronously. A
   * write is held while a Sentinel failover runs (see {@link SentinelFailoverGuard}).
   */
  private run<T>(operation: string, issue: Issue<T>, done: Answer<T>): void {
    const deadlines = this.deadlines;
    const guard = this.failoverGuard;
    const deadline = deadlines?.watch(() =>
      done(
        new RedisStoreError(
          operation,
          guard?.holding
            ? `a Sentinel failover did not complete within ${this.timeout} ms`
            : `Redis did not answer within ${this.timeout} ms`,
          { timedOut: true },
        ),
      ),
    );
    if (guard === undefined && this.waitReplicas === 0) {
      this.send(operation, issue, done, deadline);
      return;
    }
    if (!WRITE_OPERATIONS.has(operation)) {
      this.send(operation, issue, done, deadline);
      return;
    }
    const confirmed = this.waitReplicas > 0 ? this.replicated(operation, issue) : issue;
    if (guard === undefined) {
      this.send(operation, confirmed, done, deadline);
      return;
    }
    const attempt = (): void => {
      if (deadline?.settled) return;
      if (guard.holding) return guard.defer(attempt);
      this.send(operation, confirmed, retryOnReadOnly, deadline);
    };
    // A write answered READONLY did not happen: hold it and send it again once the client is
    // back on the primary (still within its deadline).
    const retryOnReadOnly: Answer<T> = (err, value) => {
      if (err && /^READONLY\b/.test(messageOf(err.cause))) {
        guard.onReadOnly();
        return attempt();
      }
      done(err, value);
    };
    attempt();
  }

  /** Sends `issue` now; settles `deadline` (if any) and reports to `done`. */
  private send<T>(
    operation: string,
    issue: Issue<T>,
    done: Answer<T>,
    deadline: Deadline | undefined,
  ): void {
    if (this.batchWrites && this.held === undefined) this.holdWrites();
    const deadlines = this.deadlines as DeadlineQueue;
    let pending: Promise<T>;
    try {
      pending = issue(this.client);
    } catch (err) {
      if (deadline) {
        if (deadline.settled) return;
        deadlines.settle(deadline);
      }
      process.nextTick(done, new RedisStoreError(operation, messageOf(err), { cause: err }));
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        if (deadline) {
          if (deadline.settled) return;
          deadlines.settle(deadline);
        }
        done(undefined, value);
      },
      (err: unknown) => {
        if (deadline) {
          if (deadline.settled) return;
          deadlines.settle(deadline);
        }
        done(
          err instanceof RedisStoreError
            ? err
            : new RedisStoreError(operation, messageOf(err), { cause: err }),
        );
      },
    );
  }

  /**
   * `issue` followed by `WAIT waitReplicas waitTimeout` in one pipeline (so on one connection: on
   * a Cluster, the key's master): the write's reply, or an error when fewer replicas confirmed.
   */
  private replicated<T>(operation: string, issue: Issue<T>): Issue<T> {
    const n = this.waitReplicas;
    const ms = this.waitTimeout;
    return (client) => {
      const pipeline = (client.pipeline as () => RedisPipeline)();
      // A pipeline queues the same commands as the client; its methods return the pipeline, not
      // a promise (the replies come from exec()), hence the cast and the `void`.
      void issue(pipeline as unknown as RedisCommands & RedisClientLike);
      pipeline.wait(n, ms);
      return pipeline.exec().then((replies) => {
        const write = replies?.[0];
        const wait = replies?.[1];
        if (!write || !wait) throw new Error('the pipeline was discarded');
        if (write[0]) throw write[0];
        if (wait[0]) throw wait[0];
        const confirmed = Number(wait[1]);
        if (!(confirmed >= n)) {
          throw new RedisStoreError(
            operation,
            `the write reached ${confirmed} of ${n} replicas within ${ms} ms (waitReplicas)`,
          );
        }
        return write[1] as T;
      });
    };
  }

  /**
   * Corks the client's sockets (a Cluster's: every node's) until the end of this event-loop
   * turn, so the commands issued meanwhile leave in one write.
   */
  private holdWrites(): void {
    const held: Corkable[] = [];
    const client = this.client as RedisClientLike & { stream?: unknown };
    if (client.isCluster === true) {
      const nodes = (client as { nodes?: (role: 'all') => { stream?: unknown }[] }).nodes;
      if (typeof nodes === 'function') {
        for (const node of nodes.call(client, 'all')) {
          if (isCorkable(node.stream)) held.push(node.stream);
        }
      }
    } else if (isCorkable(client.stream)) {
      held.push(client.stream);
    }
    if (held.length === 0) return;
    for (const stream of held) stream.cork();
    this.held = held;
    setImmediate(this.release);
  }

  /** Sends what {@link RedisStore.holdWrites} held back. */
  private readonly release = (): void => {
    const held = this.held;
    this.held = undefined;
    if (held) for (const stream of held) stream.uncork();
  };

  /** {@link RedisStore.run} as a promise. */
  private command<T>(operation: string, issue: Issue<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.run(operation, issue, (err, value) => (err ? reject(err) : resolve(value as T)));
    });
  }

  private read(sid: string, done: NodeCallback<SessionRecord | undefined>): void {
    const key = this.prefix + sid;
    this.run(
      'get',
      () => this.client.get(key),
      (err, raw) => {
        if (err) {
          const cause = err.cause;
          if (!/^WRONGTYPE\b/.test(messageOf(cause))) return done(err);
          this.discard(key, `holds a Redis value of the wrong type (${messageOf(cause)})`);
          return done(null, undefined);
        }
        if (raw === null || raw === undefined) return done(null, undefined);
        const parsed = this.decode(raw);
        if (!isThenable(parsed)) return this.accept(key, parsed, done);
        // decode's promise never rejects (a parse failure resolves to the reason).
        void (parsed as Promise<SessionRecord | string>).then((result) =>
          this.accept(key, result, done),
        );
      },
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
   * Parses a stored value: the session (remembering the raw value it came from), or a string
   * saying why it is unusable. Synchronous with a synchronous serializer (the default `JSON`).
   */
  private decode(raw: string): SessionRecord | string | Promise<SessionRecord | string> {
    let value: unknown;
    try {
      value = this.serializer.parse(raw);
    } catch (err) {
      return `is not a valid serialized session (${messageOf(err)})`;
    }
    if (isThenable(value)) {
      return Promise.resolve(value).then(
        (v) => checkRecord(v, raw),
        (err: unknown) => `is not a valid serialized session (${messageOf(err)})`,
      );
    }
    return checkRecord(value, raw);
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

  /** TTL in whole seconds, or `undefined` with `disableTTL`. */
  private ttlOf(session: SessionRecord): number | undefined {
    if (this.disableTTL) return undefined;
    if (typeof this.ttl === 'function') {
      const ttl = this.ttl(session);
      if (typeof ttl !== 'number' || Number.isNaN(ttl)) {
        throw new TypeError('RedisStore option ttl returned a value that is not a number');
      }
      return Math.ceil(ttl);
    }
    const expiresAt = expiryOf(session);
    if (Number.isNaN(expiresAt)) return Math.ceil(this.ttl);
    return Math.ceil((expiresAt - Date.now()) / 1000);
  }

  private write(sid: string, session: SessionRecord, done: NodeCallback): void {
    const key = this.prefix + sid;
    let ttl: number | undefined;
    let value: string;
    try {
      ttl = this.ttlOf(session);
      value = ttl !== undefined && ttl <= 0 ? '' : this.serializer.stringify(session);
    } catch (err) {
      const error = new RedisStoreError('set', `cannot serialize the session: ${messageOf(err)}`, {
        cause: err,
      });
      process.nextTick(done, error);
      return;
    }
    const answer = (err: RedisStoreError | undefined): void => done(err);
    if (ttl !== undefined && ttl <= 0) {
      this.run('set', (r) => r.del(key), answer);
      return;
    }
    // A session read from the store is only rewritten while its record still exists (XX):
    // a save arriving after a concurrent destroy must not bring it back.
    const existing = isStoredSession(session);
    const seconds = ttl;
    this.run(
      'set',
      (r) =>
        seconds === undefined
          ? existing
            ? r.set(key, value, 'XX')
            : r.set(key, value)
          : existing
            ? r.set(key, value, 'EX', seconds, 'XX')
            : r.set(key, value, 'EX', seconds),
      answer,
    );
  }

  private async applyPatch(
    sid: string,
    patch: SessionPatch,
    session: SessionRecord,
  ): Promise<void> {
    const c = this.client;
    if (this.serializer !== JSON || typeof c.eval !== 'function') {
      return new Promise<void>((resolve, reject) => {
        this.write(sid, session, (err) => (err ? reject(err) : resolve()));
      });
    }
    const key = this.prefix + sid;
    let ttl: number | undefined;
    let cookie: string;
    try {
      ttl = this.ttlOf(session);
      cookie = JSON.stringify(session.cookie);
    } catch (err) {
      throw new RedisStoreError('patch', `cannot serialize the session: ${messageOf(err)}`, {
        cause: err,
      });
    }
    if (ttl !== undefined && ttl <= 0) {
      await this.command('patch', (r) => r.del(key));
      return;
    }
    const args: (string | number)[] = [cookie, ttl === undefined ? '' : ttl, patch.set.length];
    for (const [name, json] of patch.set) args.push(JSON.stringify(name), json);
    for (const name of patch.unset) args.push(JSON.stringify(name));
    await this.command('patch', (r) =>
      (r.eval as NonNullable<RedisCommands['eval']>)(PATCH_SESSION, 1, key, ...args),
    );
  }

  private refresh(sid: string, session: SessionRecord, done: NodeCallback): void {
    if (this.disableTouch || this.disableTTL) {
      process.nextTick(done, null);
      return;
    }
    const key = this.prefix + sid;
    let ttl: number | undefined;
    try {
      ttl = this.ttlOf(session);
    } catch (err) {
      process.nextTick(done, new RedisStoreError('touch', messageOf(err), { cause: err }));
      return;
    }
    if (ttl === undefined) {
      process.nextTick(done, null);
      return;
    }
    const answer = (err: RedisStoreError | undefined): void => done(err);
    const raw = (storedRecordOf(session) as ParsedRecord | undefined)?.[RAW_VALUE];
    const c = this.client;
    const seconds = ttl;
    if (raw !== undefined && seconds > 0 && typeof c.eval === 'function') {
      // Rewrite the record with its new cookie expiry, but only while it is exactly what this
      // request read: the stored expiry then stays current (so the engine's `touchAfter` can
      // skip the next touches), and a concurrent change is never overwritten.
      let value: string;
      try {
        value = this.serializer.stringify(session);
      } catch (err) {
        const error = new RedisStoreError(
          'touch',
          `cannot serialize the session: ${messageOf(err)}`,
          {
            cause: err,
          },
        );
        process.nextTick(done, error);
        return;
      }
      this.run(
        'touch',
        (r) =>
          (r.eval as NonNullable<RedisCommands['eval']>)(
            TOUCH_IF_UNCHANGED,
            1,
            key,
            raw,
            value,
            seconds,
          ),
        answer,
      );
      return;
    }
    // EXPIRE with a TTL <= 0 deletes the key, as a save of an expired session does.
    this.run('touch', (r) => r.expire(key, seconds), answer);
  }

  /** The endpoints to scan: every master of a Cluster, or the client itself. */
  private endpoints(operation: string): RedisCommands[] {
    const client = this.client;
    if (client.isCluster !== true || typeof client.nodes !== 'function') return [client];
    const masters = client.nodes('master');
    if (masters.length === 0) {
      throw new RedisStoreError(
        operation,
        'the Redis Cluster has no connected master (not ready?)',
      );
    }
    return masters;
  }

  private get isCluster(): boolean {
    return this.client.isCluster === true;
  }

  /** Scans this store's keys on every endpoint, handing each batch to `onBatch`. */
  private async scan(operation: string, onBatch: (keys: string[]) => Promise<void>): Promise<void> {
    const pattern = `${globEscape(this.prefix)}*`;
    for (const node of this.endpoints(operation)) {
      let cursor = '0';
      do {
        const [next, keys] = await this.command(operation, () =>
          node.scan(cursor, 'MATCH', pattern, 'COUNT', this.scanCount),
        );
        cursor = next;
        if (keys.length > 0) await onBatch(keys);
      } while (cursor !== '0');
    }
  }

  private async listIds(operation: string): Promise<string[]> {
    const seen = new Set<string>();
    await this.scan(operation, async (keys) => {
      for (const key of keys) seen.add(key.slice(this.prefix.length));
    });
    return [...seen];
  }

  private async readAll(): Promise<RedisStoredSession[]> {
    const seen = new Set<string>();
    const out: RedisStoredSession[] = [];
    await this.scan('all', async (batch) => {
      const keys = batch.filter((key) => !seen.has(key));
      for (const key of keys) seen.add(key);
      if (keys.length === 0) return;
      // Standalone: one MGET per batch. Cluster: one GET per key (keys of a batch live in
      // different slots), sent together and routed by the cluster client.
      const values = this.isCluster
        ? await Promise.all(keys.map((key) => this.command('all', () => this.client.get(key))))
        : await this.command('all', () => this.client.mget(...keys));
      for (let i = 0; i < keys.length; i++) {
        const raw = values[i];
        const key = keys[i] as string;
        if (raw === null || raw === undefined) continue;
        const session = await this.decode(raw);
        if (typeof session === 'string') {
          this.warn(`the session record ${key} ${session}; all() skipped it`);
          continue;
        }
        out.push(Object.assign(session, { id: key.slice(this.prefix.length) }));
      }
    });
    return out;
  }

  private async removeAll(): Promise<void> {
    await this.scan('clear', async (keys) => {
      if (this.isCluster) {
        await Promise.all(keys.map((key) => this.command('clear', (r) => r.del(key))));
      } else {
        await this.command('clear', (r) => r.del(...keys));
      }
    });
  }
}
