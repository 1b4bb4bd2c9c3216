import { createHash } from 'node:crypto';
import type { ReadRefresh } from '../../engine/store/store-like';
import type { RedisCommands } from './redis-client';
import { READ_AND_TOUCH } from './scripts';

const READ_AND_TOUCH_SHA = createHash('sha1').update(READ_AND_TOUCH).digest('hex');

/**
 * The arguments of {@link READ_AND_TOUCH} for a refresh at `now`: a record written by the engine
 * starts with its cookie (`originalMaxAge`, then `expires`), as `Cookie#toJSON` orders them.
 *
 * @param defaultTtl seconds a browser-session cookie's record lives (the store's `ttl`)
 */
export function readRefreshArgs(
  refresh: ReadRefresh,
  now: number,
  defaultTtl: number,
): readonly (string | number)[] {
  // Requests within the same millisecond ask the same (three ISO dates cost a few µs each
  // request): the last answer is reused.
  const last = lastArgs;
  if (
    last !== undefined &&
    last.now === now &&
    last.maxAge === refresh.maxAge &&
    last.margin === refresh.margin &&
    last.defaultTtl === defaultTtl
  ) {
    return last.args;
  }
  const args = computeArgs(refresh, now, defaultTtl);
  lastArgs = { now, maxAge: refresh.maxAge, margin: refresh.margin, defaultTtl, args };
  return args;
}

/** The last arguments {@link readRefreshArgs} computed, with what they were computed for. */
let lastArgs:
  | {
      now: number;
      maxAge: number | null;
      margin: number;
      defaultTtl: number;
      args: readonly (string | number)[];
    }
  | undefined;

function computeArgs(
  refresh: ReadRefresh,
  now: number,
  defaultTtl: number,
): readonly (string | number)[] {
  const maxAge = refresh.maxAge;
  const head = `{"cookie":{"originalMaxAge":${maxAge === null ? 'null' : maxAge},"expires":`;
  if (maxAge === null) return [head, 'none', Math.ceil(defaultTtl * 1000), refresh.margin];
  const expires = now + maxAge;
  return [
    head,
    'date',
    new Date(expires).toISOString(),
    new Date(now).toISOString(),
    new Date(expires - refresh.margin).toISOString(),
    maxAge,
  ];
}

/** The reply of {@link READ_AND_TOUCH}: nil, or `[refreshed 0|1, value]`. */
export type ReadRefreshReply = null | [0 | 1, string];

/**
 * Runs {@link READ_AND_TOUCH} by its SHA (`EVALSHA`: the script's text is not sent each time),
 * loading it with `EVAL` the first time a server does not know it (`NOSCRIPT`: a new server, a
 * failover, `SCRIPT FLUSH`).
 */
export function readAndTouch(
  client: RedisCommands,
  key: string,
  args: readonly (string | number)[],
): Promise<ReadRefreshReply> {
  const evalsha = client.evalsha as NonNullable<RedisCommands['evalsha']>;
  const run = client.eval as NonNullable<RedisCommands['eval']>;
  return evalsha.call(client, READ_AND_TOUCH_SHA, 1, key, ...args).then(
    (reply) => reply as ReadRefreshReply,
    (err: unknown) => {
      if (!/^NOSCRIPT\b/.test(err instanceof Error ? err.message : String(err))) throw err;
      return run.call(client, READ_AND_TOUCH, 1, key, ...args) as Promise<ReadRefreshReply>;
    },
  );
}
