import type { NodeCallback } from '../node-callback';
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
  | 'get'
  | 'getAndTouch'
  | 'set'
  | 'destroy'
  | 'touch'
  | 'patch'
  | 'all'
  | 'length'
  | 'clear'
  | 'ids';

/**
 * A store that bounds the answer time of its own operations says so: `answersWithin(method)`
 * gives the longest `method` can take before it answers, in milliseconds (`0`: it always
 * answers by itself), or `undefined` when it cannot promise anything (for instance because the
 * method was replaced on the instance or overridden by a subclass). When the bound is within
 * `storeTimeout`, the engine sets no timer of its own: one timer per operation, not two.
 */
export interface SelfTimedStore {
  answersWithin?(method: StoreMethod): number | undefined;
}

/**
 * The bound `answersWithin` reports for stores of class `owner`: `bound` while `method` is still
 * `owner`'s own implementation on `store`, else `undefined`.
 */
export function ownOperationBound(
  store: object,
  owner: { prototype: object },
  method: StoreMethod,
  bound: number | undefined,
): number | undefined {
  const own = (owner.prototype as Record<string, unknown>)[method];
  return own !== undefined && (store as Record<string, unknown>)[method] === own
    ? bound
    : undefined;
}

/** Whether the engine must time `method` of `store` itself to cut it off after `timeoutMs`. */
function needsTimer(
  store: StoreLike,
  method: StoreMethod,
  timeoutMs: number | undefined,
): timeoutMs is number {
  if (timeoutMs === undefined || !(timeoutMs > 0)) return false;
  const answersWithin = (store as SelfTimedStore).answersWithin;
  if (typeof answersWithin !== 'function') return true;
  const bound = answersWithin.call(store, method);
  return !(typeof bound === 'number' && bound >= 0 && bound <= timeoutMs);
}

/**
 * Calls a store method in whatever style the store speaks and reports exactly once.
 *
 * - A callback-style store calls the callback we pass.
 * - A promise-style store returns a promise (and may ignore the callback).
 * - A store that does both (connect-redis style) is answered by whichever comes first.
 *   When the method declares the callback parameter explicitly, its promise's *value* is not
 *   trusted (only its rejection), so a method that resolves early and calls back later is safe.
 * - A store that throws synchronously reports the error; one that never answers is cut off after
 *   `timeoutMs` (when set) with a {@link StoreTimeoutError}, unless the store bounds its own
 *   answer time within it ({@link SelfTimedStore}).
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
  if (needsTimer(store, method, timeoutMs)) {
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
    // Spelled out per arity: no spread array for the common calls.
    returned =
      args.length === 1
        ? fn.call(store, args[0], finish)
        : args.length === 2
          ? fn.call(store, args[0], args[1], finish)
          : fn.apply(store, [...args, finish]);
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
