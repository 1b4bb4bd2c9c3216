/**
 * Structural types for the Redis client {@link RedisStore} runs on.
 *
 * They list only the commands the store sends, with the promise-returning signatures ioredis
 * (v5 and v6) declares, so an ioredis `Redis` (standalone or Sentinel-configured) or `Cluster`
 * fits without this package importing `ioredis` (an optional peer dependency).
 */

/** A `SCAN` reply: the next cursor (`'0'` when the iteration is complete) and a batch of keys. */
export type RedisScanReply = [cursor: string, elements: string[]];

/** The commands {@link RedisStore} sends to one Redis endpoint (a standalone server or a cluster). */
export interface RedisCommands {
  /** `GET key`. */
  get(key: string): Promise<string | null>;
  /** `SET key value` (no expiry: used with `disableTTL`). */
  set(key: string, value: string): Promise<unknown>;
  /** `SET key value XX`: only when the key exists. */
  set(key: string, value: string, xx: 'XX'): Promise<unknown>;
  /** `SET key value EX seconds`. */
  set(key: string, value: string, ex: 'EX', seconds: number): Promise<unknown>;
  /** `SET key value PX milliseconds` (a destroy's tombstone during a failover). */
  set(key: string, value: string, px: 'PX', milliseconds: number): Promise<unknown>;
  /** `SET key value EX seconds XX`: only when the key exists. */
  set(key: string, value: string, ex: 'EX', seconds: number, xx: 'XX'): Promise<unknown>;
  /** `EXPIRE key seconds`. */
  expire(key: string, seconds: number): Promise<number>;
  /**
   * `EVAL script numkeys key [arg …]` (single key): used by `touch` to refresh a record's expiry
   * only while it is unchanged. Optional: without it, `touch` sends `EXPIRE`.
   */
  eval?(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /**
   * `EVALSHA sha numkeys key [arg …]`: runs a script the server has cached (used by
   * `getAndTouch`; optional: without it, reads are plain `GET`s).
   */
  evalsha?(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** `SMEMBERS key` (per-user index). */
  smembers?(key: string): Promise<string[]>;
  /** `SREM key member [member …]` (per-user index). */
  srem?(key: string, ...members: string[]): Promise<number>;
  /** `EXISTS key` (per-user index pruning). */
  exists?(key: string): Promise<number>;
  /** `DEL key [key …]` (several keys only on a standalone server). */
  del(...keys: string[]): Promise<number>;
  /** `MGET key [key …]` (used only on a standalone server). */
  mget(...keys: string[]): Promise<(string | null)[]>;
  /** `SCAN cursor MATCH pattern COUNT count`. */
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    countValue: number,
  ): Promise<RedisScanReply>;
}

/**
 * A pipeline of the client (`client.pipeline()`): commands queued on it leave together on one
 * connection (on a Cluster: the node of their keys); `exec()` gives each command's
 * `[error, reply]`. Used with `waitReplicas` to follow each write with `WAIT`.
 */
export interface RedisPipeline {
  /** Queues `WAIT numreplicas timeout`. */
  wait(numReplicas: number, timeout: number): unknown;
  /** Sends the queued commands: one `[error, reply]` per command. */
  exec(): Promise<[Error | null, unknown][] | null>;
}

/**
 * The client {@link RedisStore} accepts: an ioredis `Redis` (standalone, or configured for
 * Sentinel) or an ioredis `Cluster`. A cluster is recognised by `isCluster === true`; its masters
 * (from `nodes('master')`) are scanned one by one for `ids`/`all`/`length`/`clear`.
 */
export interface RedisClientLike extends RedisCommands {
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  /** On a cluster: one client per node of the given role. */
  nodes?(role: 'master'): RedisCommands[];
  /** A pipeline (needed for `waitReplicas`). */
  pipeline?(): RedisPipeline;
}
