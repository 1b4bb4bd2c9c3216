/** A Node-style callback. */
export type NodeCallback<T = void> = (err?: unknown, result?: T) => void;

/** A callback that ignores its arguments. */
export function noop(): void {}

/**
 * Bridges the two calling styles of the public API: with a callback, the operation reports to it;
 * without one, a promise is returned (already marked handled, so a caller that never awaits it
 * cannot crash the process with an unhandled rejection).
 */
export function promiseOrCallback<T>(
  cb: NodeCallback<T> | undefined,
  run: (done: NodeCallback<T>) => void,
): Promise<T> | undefined {
  if (typeof cb === 'function') {
    run(cb);
    return undefined;
  }
  const promise = new Promise<T>((resolve, reject) => {
    run((err, result) => (err ? reject(err) : resolve(result as T)));
  });
  promise.catch(noop);
  return promise;
}
