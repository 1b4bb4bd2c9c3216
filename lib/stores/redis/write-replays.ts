import type { SessionPatch } from '../../engine/session-patch';
import { REPLAY_LEFT, type Replay } from './recent-writes';
import type { RedisClientLike, RedisCommands } from './redis-client';
import { REPLAY_DESTROY, REPLAY_EXPIRE, REPLAY_PATCH, REPLAY_SET } from './replay-scripts';

/**
 * The replays of RedisStore's writes after a Sentinel failover (see `SentinelFailoverGuard`,
 * step 5): one closure per acknowledged write, built only when the store remembers writes, run
 * on the new primary once it is verified. Each is one `EVAL` that writes only where the write is
 * missing and nothing was written since:
 * - a whole-record write (`set`, the compare-and-set `touch`): where the key still holds what the
 *   request had read, or, for a new session, where the key is missing and has no tombstone;
 * - a merge patch: key by key, where the key still holds what the request had read;
 * - a destroy: always (a session id is never reused), leaving a tombstone;
 * - an `EXPIRE` touch: extends a shorter TTL.
 * Expiries are absolute: a replay gives the record the lifetime it had left.
 */

/** How long a destroy's tombstone lives (longer than any failover's replays). */
export const TOMBSTONE_MS = 60_000;

/** What the replays use of the store. */
export interface ReplayTarget {
  readonly prefix: string;
  /** Key prefix of the tombstones a destroy leaves during a failover. */
  readonly tombstonePrefix: string;
  readonly client: RedisClientLike;
}

/** What a whole-record write replaced: the value read, `absent` (a new session) or unknown. */
export type ReadBefore = { value: string } | 'absent' | 'unknown';

function evalOf(target: ReplayTarget): NonNullable<RedisCommands['eval']> {
  const run = target.client.eval;
  if (typeof run !== 'function') throw new Error('the client has no eval()');
  return run.bind(target.client);
}

/** A PX argument for an expiry at `expiresAt` ('' for none), or `undefined` once it passed. */
function pxUntil(expiresAt: number | undefined): string | undefined {
  if (expiresAt === undefined) return '';
  const ms = Math.ceil(expiresAt - Date.now());
  return ms > 0 ? String(ms) : undefined;
}

/** The replay of a whole-record write of `value` (expiring at `expiresAt`, epoch ms). */
export function replaySet(
  target: ReplayTarget,
  sid: string,
  value: string,
  before: ReadBefore,
  expiresAt: number | undefined,
): Replay {
  return async () => {
    const px = pxUntil(expiresAt);
    if (px === undefined) return REPLAY_LEFT;
    const mode = typeof before === 'string' ? before : 'known';
    const read = typeof before === 'string' ? '' : before.value;
    return evalOf(target)(
      REPLAY_SET,
      2,
      target.prefix + sid,
      target.tombstonePrefix + sid,
      value,
      mode,
      read,
      px,
    );
  };
}

/**
 * The replay of a merge patch. `raw` is the record as the request read it (what each patched key
 * held then is taken from it at replay time: nothing is computed for a write that is not replayed).
 */
export function replayPatch(
  target: ReplayTarget,
  sid: string,
  patch: SessionPatch,
  cookie: string,
  raw: string | undefined,
  expiresAt: number | undefined,
): Replay {
  return async () => {
    const px = pxUntil(expiresAt);
    if (px === undefined) return REPLAY_LEFT;
    const read = readValues(raw);
    const args: (string | number)[] = [cookie, px, patch.set.length];
    for (const [name, json] of patch.set) args.push(JSON.stringify(name), json, read(name));
    for (const name of patch.unset) args.push(JSON.stringify(name), read(name));
    return evalOf(target)(REPLAY_PATCH, 1, target.prefix + sid, ...args);
  };
}

/** The replay of a destroy. */
export function replayDestroy(target: ReplayTarget, sid: string): Replay {
  return async () =>
    evalOf(target)(
      REPLAY_DESTROY,
      2,
      target.prefix + sid,
      target.tombstonePrefix + sid,
      TOMBSTONE_MS,
    );
}

/** The replay of an `EXPIRE` touch (to `expiresAt`, epoch ms). */
export function replayExpire(target: ReplayTarget, sid: string, expiresAt: number): Replay {
  return async () => {
    const px = pxUntil(expiresAt);
    if (px === undefined || px === '') return REPLAY_LEFT;
    return evalOf(target)(REPLAY_EXPIRE, 1, target.prefix + sid, px);
  };
}

/**
 * What each top-level key of the record `raw` held, in the form `REPLAY_PATCH` compares: `=` and
 * its JSON, `-` when absent, `?` when the record is unknown or unreadable (never matches).
 */
function readValues(raw: string | undefined): (name: string) => string {
  let record: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = raw === undefined ? undefined : JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      record = parsed as Record<string, unknown>;
    }
  } catch {
    record = undefined;
  }
  return (name) => {
    if (record === undefined) return '?';
    if (!Object.prototype.hasOwnProperty.call(record, name)) return '-';
    return `=${JSON.stringify(record[name])}`;
  };
}
