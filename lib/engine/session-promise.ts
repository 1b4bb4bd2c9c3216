import type { NodeCallback } from './node-callback';
import type { RegenerateOptions, Session } from './session';

/**
 * What `save()`, `reload()`, `destroy()` and `regenerate()` return when called without a
 * callback: a real promise (so `await req.session.save()` works and rejects on store errors)
 * that also carries the session's chainable methods, so express-session style chains such as
 * `req.session.save().touch()` keep working. A call nobody awaits never causes an unhandled
 * rejection.
 */
export class SessionPromise<S extends Session = Session> extends Promise<void> {
  // `then`/`catch` return plain promises, not SessionPromise.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  /** The session this operation ran on. */
  declare readonly session: S;

  /** @internal use {@link SessionPromise.run}. */
  static run<S extends Session>(
    session: S,
    start: (done: NodeCallback) => void,
  ): SessionPromise<S> {
    let settle!: NodeCallback;
    const promise = new SessionPromise<S>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    Reflect.defineProperty(promise, 'session', { value: session });
    void promise.catch(() => undefined);
    start(settle);
    return promise;
  }

  /** Same as `session.touch()`. */
  touch(): S {
    return this.session.touch();
  }

  /** Same as `session.resetMaxAge()`. */
  resetMaxAge(): S {
    return this.session.resetMaxAge();
  }

  /** Same as `session.save()`. */
  save(): SessionPromise<S>;
  save(callback: NodeCallback): S;
  save(callback?: NodeCallback): S | SessionPromise<S> {
    return callback ? this.session.save(callback) : this.session.save();
  }

  /** Same as `session.reload()`. */
  reload(): SessionPromise<S>;
  reload(callback: NodeCallback): S;
  reload(callback?: NodeCallback): S | SessionPromise<S> {
    return callback ? this.session.reload(callback) : this.session.reload();
  }

  /** Same as `session.destroy()`. */
  destroy(): SessionPromise<S>;
  destroy(callback: NodeCallback): S;
  destroy(callback?: NodeCallback): S | SessionPromise<S> {
    return callback ? this.session.destroy(callback) : this.session.destroy();
  }

  /** Same as `session.regenerate()`. */
  regenerate(options?: RegenerateOptions): SessionPromise<S>;
  regenerate(callback: NodeCallback): S;
  regenerate(optionsOrCallback?: RegenerateOptions | NodeCallback): S | SessionPromise<S> {
    return typeof optionsOrCallback === 'function'
      ? this.session.regenerate(optionsOrCallback)
      : this.session.regenerate(optionsOrCallback);
  }
}
