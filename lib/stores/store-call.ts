import type { NodeCallback } from '../engine/node-callback';
import type { StoreLike } from './store-like';

/** Raised when a store operation does not answer within the configured `storeTimeout`. */
export class StoreTimeoutError extends Error {
  /** Machine-readable code. */
  readonly code = 'ESTORETIMEOUT';

  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`Session store ${operation} did not answer within ${timeoutMs} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** The store methods the engine and the adapters call. */
export type StoreMethod =
  'get' | 'set' | 'destroy' | 'touch' | 'patch' | 'all' | 'length' | 'clear' | 'ids';

/**
 * Calls a store method in whatever style the store speaks and reports exactly once.
 *
 * - A callback-style store calls the callback we pass.
 * - A promise-style store returns a promise (and may ignore the callback).
 * - A store that does both (connect-redis style) is answered by whichever comes first.
 *   When the method declares the callback parameter explicitly, its promise's *value* is not
 *   trusted (only its rejection), so a method that resolves early and calls back later is safe.
 * - A store that throws synchronously reports the error; one that never answers is cut off after
 *   `timeoutMs` (when set) with a {@link StoreTimeoutError}.
 */
export function callStore<T = unknown>(
  store: StoreLike,
  method: StoreMethod,
  args: readonly unknown[],
  timeoutMs: number | undefined,
  callback: NodeCallback<T>,
): void {
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (err?: unknown, result?: T): void => {
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    callback(err, result);
  };
  if (timeoutMs !== undefined && timeoutMs > 0) {
    timer = setTimeout(() => finish(new StoreTimeoutError(method, timeoutMs)), timeoutMs);
  }
  const fn = (store as unknown as Record<string, unknown>)[method] as
    ((...a: unknown[]) => unknown) | undefined;
  if (typeof fn !== 'function') {
    finish(new Error(`the session store has no ${method}() method`));
    return;
  }
  let returned: unknown;
  try {
    returned = fn.apply(store, [...args, finish]);
  } catch (err) {
    // Thrown after we were answered: it came from our own callback's caller chain, not the store.
    if (done) throw err;
    finish(err ?? new Error(`Session store ${method} threw`));
    return;
  }
  if (returned !== null && typeof returned === 'object' && 'then' in returned) {
    const trustValue = fn.length <= args.length;
    (returned as PromiseLike<T>).then(
      (value) => {
        if (trustValue) finish(undefined, value);
      },
      (err: unknown) => finish(err ?? new Error(`Session store ${method} failed`)),
    );
  }
}
