import type { SessionRecord } from '../../engine/session-data';
import type { RedisCommandCore } from './command-core';
import { RedisStoreError } from './errors';
import { ttlOf } from './records';
import type { RedisCommands } from './redis-client';
import { REPLAY_THERE } from './recent-writes';
import { ADD_USER_SESSION } from './scripts';

/** What the per-user index uses of the store. */
export interface UserIndexSettings {
  readonly prefix: string;
  readonly userPrefix: string;
  readonly ttl: number | ((session: SessionRecord) => number);
  readonly disableTTL: boolean;
}

/**
 * Adds `sid` to the set `userPrefix + userId` (one `EVAL`: `SADD`, and an `EXPIRE` that only
 * ever extends the set to the session's TTL).
 */
export async function addUserSession(
  core: RedisCommandCore,
  settings: UserIndexSettings,
  userId: string,
  sid: string,
  session: SessionRecord,
): Promise<void> {
  const c = core.client;
  if (typeof c.eval !== 'function')
    throw new RedisStoreError('addUserSession', 'the client has no eval()');
  let ttl = ttlOf(session, settings.ttl, settings.disableTTL);
  if (ttl === undefined || ttl <= 0)
    ttl = typeof settings.ttl === 'number' ? Math.ceil(settings.ttl) : 86_400;
  const key = settings.userPrefix + userId;
  const seconds = ttl;
  const add = (r: RedisCommands) =>
    (r.eval as NonNullable<RedisCommands['eval']>)(ADD_USER_SESSION, 1, key, sid, seconds);
  await core.command('addUserSession', add);
  // Idempotent: a replay after a Sentinel failover sends it again as it is.
  if (core.replays) core.remember(() => add(c).then(() => REPLAY_THERE));
}

/**
 * Ids of the live sessions of `userId`: `SMEMBERS`, then one `EXISTS` per id (single-key, so
 * Cluster-safe); ids whose session is gone are removed from the set.
 */
export async function userSessionIds(
  core: RedisCommandCore,
  settings: UserIndexSettings,
  userId: string,
): Promise<string[]> {
  const c = core.client;
  if (!c.smembers || !c.exists || !c.srem) {
    throw new RedisStoreError('userSessionIds', 'the client lacks smembers/exists/srem');
  }
  const key = settings.userPrefix + userId;
  const ids = await core.command('userSessionIds', () =>
    (c.smembers as NonNullable<RedisCommands['smembers']>)(key),
  );
  const alive = await Promise.all(
    ids.map((sid) =>
      core.command('userSessionIds', () =>
        (c.exists as NonNullable<RedisCommands['exists']>)(settings.prefix + sid),
      ),
    ),
  );
  const dead = ids.filter((_, i) => alive[i] === 0);
  if (dead.length > 0) {
    await core.command('userSessionIds', () =>
      (c.srem as NonNullable<RedisCommands['srem']>)(key, ...dead),
    );
  }
  return ids.filter((_, i) => alive[i] !== 0);
}
