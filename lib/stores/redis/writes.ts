import type { NodeCallback } from '../../engine/node-callback';
import type { SessionRecord } from '../../engine/session-data';
import { isStoredSession } from '../../engine/session-origin';
import type { SessionPatch } from '../../engine/session-patch';
import type { RedisCommandCore } from './command-core';
import { RedisStoreError, messageOf } from './errors';
import type { RedisStoreSerializer } from './options';
import { rawValueOf, ttlOf } from './records';
import type { RedisClientLike, RedisCommands } from './redis-client';
import { PATCH_SESSION, TOUCH_IF_UNCHANGED } from './scripts';
import {
  type ReplayTarget,
  replayDestroy,
  replayExpire,
  replayPatch,
  replaySet,
} from './write-replays';

/**
 * RedisStore's writes: `set` (`SET … EX`, with `XX` for a session read from the store), the
 * merge patch (one `EVAL`), and `touch` (a compare-and-set rewrite of the unchanged record, or
 * `EXPIRE`). Each answers `false` when the session no longer exists and nothing was written.
 */

/** What the writes use of the store. */
export interface WriteTarget extends ReplayTarget {
  readonly prefix: string;
  readonly serializer: RedisStoreSerializer;
  readonly ttl: number | ((session: SessionRecord) => number);
  readonly disableTouch: boolean;
  readonly disableTTL: boolean;
  readonly client: RedisClientLike;
  readonly core: RedisCommandCore;
}

export function writeSession(
  store: WriteTarget,
  sid: string,
  session: SessionRecord,
  done: NodeCallback<void | false>,
): void {
  const key = store.prefix + sid;
  let ttl: number | undefined;
  let value: string;
  try {
    ttl = ttlOf(session, store.ttl, store.disableTTL);
    value = ttl !== undefined && ttl <= 0 ? '' : store.serializer.stringify(session);
  } catch (err) {
    const error = new RedisStoreError('set', `cannot serialize the session: ${messageOf(err)}`, {
      cause: err,
    });
    process.nextTick(done, error);
    return;
  }
  const core = store.core;
  if (ttl !== undefined && ttl <= 0) {
    core.run(
      'set',
      (r) => r.del(key),
      (err) => {
        if (!err && core.replays) core.remember(replayDestroy(store, sid));
        done(err);
      },
    );
    return;
  }
  // A session read from the store is only rewritten while its record still exists (XX):
  // a save arriving after a concurrent destroy must not bring it back (SET answers nil).
  const existing = isStoredSession(session);
  const seconds = ttl;
  const answer = (err: RedisStoreError | undefined, reply?: unknown): void => {
    if (err) return done(err);
    const written = !(existing && reply === null);
    if (written && core.replays) {
      const raw = existing ? rawValueOf(session) : undefined;
      const before = !existing ? 'absent' : raw === undefined ? 'unknown' : { value: raw };
      core.remember(replaySet(store, sid, value, before, expiryAt(seconds)));
    }
    done(null, written ? undefined : false);
  };
  store.core.run(
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

export async function patchSession(
  store: WriteTarget,
  sid: string,
  patch: SessionPatch,
  session: SessionRecord,
): Promise<void | false> {
  const c = store.client;
  if (store.serializer !== JSON || typeof c.eval !== 'function') {
    return new Promise<void | false>((resolve, reject) => {
      writeSession(store, sid, session, (err, written) => (err ? reject(err) : resolve(written)));
    });
  }
  const key = store.prefix + sid;
  let ttl: number | undefined;
  let cookie: string;
  try {
    ttl = ttlOf(session, store.ttl, store.disableTTL);
    cookie = JSON.stringify(session.cookie);
  } catch (err) {
    throw new RedisStoreError('patch', `cannot serialize the session: ${messageOf(err)}`, {
      cause: err,
    });
  }
  if (ttl !== undefined && ttl <= 0) {
    await store.core.command('patch', (r) => r.del(key));
    if (store.core.replays) store.core.remember(replayDestroy(store, sid));
    return;
  }
  const args: (string | number)[] = [cookie, ttl === undefined ? '' : ttl, patch.set.length];
  for (const [name, json] of patch.set) args.push(JSON.stringify(name), json);
  for (const name of patch.unset) args.push(JSON.stringify(name));
  const applied = await store.core.command('patch', (r) =>
    (r.eval as NonNullable<RedisCommands['eval']>)(PATCH_SESSION, 1, key, ...args),
  );
  // The script answers 0 when the record is gone (nothing written).
  if (applied === 0) return false;
  if (store.core.replays) {
    store.core.remember(replayPatch(store, sid, patch, cookie, rawValueOf(session), expiryAt(ttl)));
  }
}

/** The epoch milliseconds a TTL in seconds ends at (`undefined`: no expiry). */
function expiryAt(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Date.now() + seconds * 1000;
}

export function refreshSession(
  store: WriteTarget,
  sid: string,
  session: SessionRecord,
  done: NodeCallback<void | false>,
): void {
  if (store.disableTouch || store.disableTTL) {
    process.nextTick(done, null);
    return;
  }
  const key = store.prefix + sid;
  let ttl: number | undefined;
  try {
    ttl = ttlOf(session, store.ttl, store.disableTTL);
  } catch (err) {
    process.nextTick(done, new RedisStoreError('touch', messageOf(err), { cause: err }));
    return;
  }
  if (ttl === undefined) {
    process.nextTick(done, null);
    return;
  }
  const raw = rawValueOf(session);
  const c = store.client;
  const seconds = ttl;
  const core = store.core;
  let value: string | undefined;
  // The script answers -1 and EXPIRE 0 when the record is gone: nothing was refreshed; the
  // script's 2 means someone else rewrote it (nothing to replay either).
  const answer = (err: RedisStoreError | undefined, reply?: unknown): void => {
    if (err) return done(err);
    if (reply === 1 && core.replays) {
      core.remember(
        value !== undefined && raw !== undefined
          ? replaySet(store, sid, value, { value: raw }, expiryAt(seconds))
          : replayExpire(store, sid, Date.now() + seconds * 1000),
      );
    }
    done(null, reply === -1 || reply === 0 ? false : undefined);
  };
  if (raw !== undefined && seconds > 0 && typeof c.eval === 'function') {
    // Rewrite the record with its new cookie expiry, but only while it is exactly what this
    // request read: the stored expiry then stays current (so the engine's `touchAfter` can
    // skip the next touches), and a concurrent change is never overwritten.
    let rewritten: string;
    try {
      rewritten = store.serializer.stringify(session);
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
    value = rewritten;
    store.core.run(
      'touch',
      (r) =>
        (r.eval as NonNullable<RedisCommands['eval']>)(
          TOUCH_IF_UNCHANGED,
          1,
          key,
          raw,
          rewritten,
          seconds,
        ),
      answer,
    );
    return;
  }
  // EXPIRE with a TTL <= 0 deletes the key, as a save of an expired session does.
  store.core.run('touch', (r) => r.expire(key, seconds), answer);
}
