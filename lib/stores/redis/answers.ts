import type { NodeCallback } from '../../engine/node-callback';
import { noop } from '../../engine/node-callback';

/** Reports to the callback (on a later tick) or returns the promise (marked handled). */
export function settle<T>(
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
export function answerWith<T>(
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
