import type { IncomingMessage } from 'node:http';
import { Cookie } from './cookie';
import type { NodeCallback } from './node-callback';
import { type SessionLifecycle, requestState, unsetSessionProperty } from './request-state';
import { CSRF_SECRET_KEY, FLASH_KEY, type SessionData, type SessionRecord } from './session-data';
import { markLoadedFromStore } from './session-origin';
import { callStore } from './store/store-call';
import { STORE_BASE, type StoreBaseMark, type StoreLike } from './store/store-like';

/** `req.session`: the {@link Session} methods plus the (augmentable) {@link SessionData}. */
export type RequestSession = Session & Partial<SessionData>;

/**
 * The request properties the session engine reads and sets (typed on `node:http`, no Express
 * import): the object a session is exposed on.
 */
export interface SessionRequest extends IncomingMessage {
  /** The session, once the middleware has run (absent on skipped paths). */
  session?: RequestSession | null;
  /** The session id (what the cookie carries). */
  sessionID?: string;
  /** The store the middleware used for this request. */
  sessionStore?: StoreLike;
  /** Set by cookie-parser; used as the secret when the `secret` option is missing. */
  secret?: string;
  /** Set by cookie-parser. */
  cookies?: Record<string, unknown>;
  /** Set by cookie-parser when it has a secret. */
  signedCookies?: Record<string, unknown>;
  /** Set by Express: the URL before mounting rewrote `req.url`. */
  originalUrl?: string;
  /** Set by Express from its `trust proxy` setting. */
  secure?: boolean;
  /** Flash messages (connect-flash's `req.flash`), set by the session middleware. */
  flash?: RequestFlash;
}

/**
 * `req.flash`: connect-flash's function (see `flash.ts`).
 *
 * - `req.flash(type, message, ...args)`: appends a message (with `args`, formatted by
 *   `util.format(message, ...args)`; an array appends each of its values) and returns how many
 *   messages of that type are waiting. The session is created if there was none.
 * - `req.flash(type)`: returns the messages of that type and removes them.
 * - `req.flash()`: returns every message by type and removes them all.
 *
 * Throws when the request has no session (the session middleware did not run on this route, or
 * the session was destroyed earlier in the request).
 */
export interface RequestFlash {
  (): Record<string, unknown[]>;
  (type: string): unknown[];
  (type: string, message: unknown, ...args: unknown[]): number;
}

type Lifecycle = SessionLifecycle<RequestSession>;

function lifecycleOf(req: SessionRequest): Lifecycle | undefined {
  return requestState<Lifecycle>(req);
}

function storeOf(session: Session): StoreLike {
  const store = session.req.sessionStore;
  if (!store) throw new TypeError('session has no store (req.sessionStore is not set)');
  return store;
}

/**
 * Builds `req.session` from a stored record, as `Store#createSession` does. Used directly for
 * stores that do not inherit from our `Store` base (e.g. connect-redis extending express-session's
 * own base), so `req.session` is always one of our {@link Session} objects.
 * @internal
 */
export function createSessionFromRecord(req: SessionRequest, data: SessionRecord): RequestSession {
  const expires = data.cookie.expires;
  const originalMaxAge = data.cookie.originalMaxAge;
  const cookie = new Cookie(data.cookie);
  if (typeof expires === 'string') cookie.expires = new Date(expires);
  else if (typeof expires === 'number') cookie.expires = new Date(expires);
  cookie.originalMaxAge = originalMaxAge;
  (data as { cookie: unknown }).cookie = cookie;
  const session = new Session(req, data) as RequestSession;
  markLoadedFromStore(session, data);
  req.session = session;
  return session;
}

/** Whether a store is built on our `Store` base (its `createSession` makes our sessions). */
function isOwnStore(
  store: StoreLike,
): store is StoreLike & { createSession: typeof createSessionFromRecord } {
  return (store as { [STORE_BASE]?: StoreBaseMark })[STORE_BASE] !== undefined;
}

/**
 * Turns a stored record into `req.session`, through the store's own `createSession` when the
 * store is built on our `Store` base, and through our own logic otherwise (so `req.session` is
 * always one of our sessions, even for stores built on express-session's base).
 * @internal
 */
export function inflateSession(
  store: StoreLike,
  req: SessionRequest,
  data: SessionRecord,
): RequestSession {
  return isOwnStore(store) ? store.createSession(req, data) : createSessionFromRecord(req, data);
}

/** Options of {@link Session.regenerate}. */
export interface RegenerateOptions {
  /** Keys of the session data to carry over to the new session. */
  keep?: string[];
}

/** Runs `start` with the caller's callback (returning the session) or as a {@link SessionPromise}. */
function operation<S extends Session>(
  session: S,
  callback: NodeCallback | undefined,
  start: (done: NodeCallback) => void,
): S | SessionPromise<S> {
  if (typeof callback === 'function') {
    start(callback);
    return session;
  }
  return SessionPromise.run(session, start);
}

/**
 * A session: `req.session`. Its enumerable own properties are the session data plus `cookie`;
 * `id` and `req` are read-only and non-enumerable. Behaves like express-session's `Session`;
 * in addition every I/O method returns a promise when called without a callback.
 */
export class Session {
  /** The session id (fixed at construction; equals `req.sessionID`). */
  declare readonly id: string;
  /** The request this session belongs to. */
  declare readonly req: SessionRequest;
  /** The session cookie's settings and expiry. */
  declare cookie: Cookie;

  /**
   * @param req the request; its `sessionID` becomes `id`
   * @param data stored data to copy in: every key not already present on the session (so stored
   *   keys can shadow neither methods nor `Object.prototype` members)
   */
  constructor(req: SessionRequest, data?: object | null) {
    Object.defineProperty(this, 'req', { value: req });
    Object.defineProperty(this, 'id', { value: req.sessionID });
    if (typeof data === 'object' && data !== null) {
      const target = this as unknown as Record<string, unknown>;
      for (const prop in data) {
        if (!(prop in this)) target[prop] = (data as Record<string, unknown>)[prop];
      }
    }
  }

  /** Resets the cookie's expiry to now + `originalMaxAge` (same as {@link Session.resetMaxAge}). */
  touch(): this {
    return this.resetMaxAge();
  }

  /** Resets the cookie's expiry to now + `originalMaxAge`. */
  resetMaxAge(): this {
    this.cookie.maxAge = this.cookie.originalMaxAge as number | null;
    return this;
  }

  /** Writes the session to the store now. Without a callback, returns an awaitable {@link SessionPromise}. */
  save(callback: NodeCallback): this;
  save(): SessionPromise<this>;
  save(callback?: NodeCallback): this | SessionPromise<this> {
    return operation(this, callback, (done) => {
      const req = this.req;
      const life = lifecycleOf(req);
      try {
        if (life && req.session === this) life.beforeSave(this as RequestSession);
        const store = storeOf(this);
        const patch =
          typeof store.patch === 'function' ? life?.patchFor(this as RequestSession) : undefined;
        const args = patch ? [this.id, patch, this] : [this.id, this];
        callStore(store, patch ? 'patch' : 'set', args, life?.storeTimeout, (err, written) => {
          if (err) life?.onStoreError('set', this.id, err);
          else if (written === false) life?.onSaveRefused(this as RequestSession);
          else life?.afterSave(this as RequestSession);
          done(err && life ? life.mapStoreError(err) : err);
        });
      } catch (err) {
        done(err);
      }
    });
  }

  /**
   * Re-reads the session from the store; `req.session` becomes a new object. Fails with
   * `failed to load session` when the store no longer has it.
   */
  reload(callback: NodeCallback): this;
  reload(): SessionPromise<this>;
  reload(callback?: NodeCallback): this | SessionPromise<this> {
    return operation(this, callback, (done) => {
      const req = this.req;
      let store: StoreLike;
      try {
        store = storeOf(this);
      } catch (err) {
        return done(err);
      }
      callStore<SessionRecord | null | undefined>(
        store,
        'get',
        [this.id],
        lifecycleOf(req)?.storeTimeout,
        (err, data) => {
          if (err) {
            const life = lifecycleOf(req);
            life?.onStoreError('get', this.id, err);
            return done(life ? life.mapStoreError(err) : err);
          }
          if (!data) {
            lifecycleOf(req)?.afterReload?.(undefined);
            return done(new Error('failed to load session'));
          }
          try {
            const fresh = inflateSession(store, req, data);
            lifecycleOf(req)?.afterReload?.(fresh);
          } catch (e) {
            return done(e);
          }
          done();
        },
      );
    });
  }

  /** Removes the session from the request and from the store. */
  destroy(callback: NodeCallback): this;
  destroy(): SessionPromise<this>;
  destroy(callback?: NodeCallback): this | SessionPromise<this> {
    return operation(this, callback, (done) => {
      const req = this.req;
      const life = req.session === this ? lifecycleOf(req) : undefined;
      unsetSessionProperty(req, 'session');
      try {
        callStore(storeOf(this), 'destroy', [this.id], lifecycleOf(req)?.storeTimeout, (err) => {
          // Only a destroy the store confirmed may clear the browser's cookie.
          const own = lifecycleOf(req);
          if (!err) life?.onDestroy(this as RequestSession);
          else own?.onStoreError('destroy', this.id, err);
          done(err && own ? own.mapStoreError(err) : err);
        });
      } catch (err) {
        done(err);
      }
    });
  }

  /**
   * Destroys this session and puts a new one (new id, fresh cookie) on the request; the new
   * session exists on `req.session` when the callback runs, even if the destroy failed. Its data
   * is empty, but for the keys named in `keep` (e.g. `{ keep: ['returnTo', 'cart'] }`), which are
   * carried over: use it on login, to change the id while keeping what the visitor had.
   */
  regenerate(callback: NodeCallback): this;
  regenerate(options: RegenerateOptions, callback: NodeCallback): this;
  regenerate(options?: RegenerateOptions): SessionPromise<this>;
  regenerate(
    optionsOrCallback?: RegenerateOptions | NodeCallback,
    maybeCallback?: NodeCallback,
  ): this | SessionPromise<this> {
    const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    const callback = typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback;
    const kept: [string, unknown][] = [];
    // Flash messages always survive (passport flashes `successFlash` before its login regenerates).
    const keep = new Set([...(options?.keep ?? []), FLASH_KEY]);
    // The CSRF secret never does: a new session gets a new one (tokens from before are refused).
    keep.delete(CSRF_SECRET_KEY);
    for (const key of keep) {
      if (key !== 'cookie' && Object.prototype.hasOwnProperty.call(this, key)) {
        kept.push([key, (this as unknown as Record<string, unknown>)[key]]);
      }
    }
    const carryOver =
      (done: NodeCallback): NodeCallback =>
      (err) => {
        const next = this.req.session as unknown as Record<string, unknown> | null | undefined;
        if (next && next !== (this as unknown)) for (const [key, value] of kept) next[key] = value;
        done(err);
      };
    return operation(this, callback, (finished) => {
      const done = kept.length > 0 ? carryOver(finished) : finished;
      const req = this.req;
      let store: StoreLike;
      try {
        store = storeOf(this);
      } catch (err) {
        return done(err);
      }
      const life = lifecycleOf(req);
      const own =
        store.regenerate === undefined ||
        store.regenerate === (store as { [STORE_BASE]?: StoreBaseMark })[STORE_BASE]?.regenerate;
      if (!own) {
        // A store built on another base (express-session's) or with its own regenerate.
        (store.regenerate as (r: SessionRequest, cb: NodeCallback) => void).call(store, req, done);
        return;
      }
      const current = req.session === this;
      callStore(store, 'destroy', [req.sessionID], life?.storeTimeout, (err) => {
        // The browser's cookie named the destroyed session: if the new one is destroyed too
        // before the response, the cookie is cleared rather than left pointing at nothing.
        if (!err && current) life?.onDestroy(this as RequestSession);
        if (err) life?.onStoreError('destroy', this.id, err);
        try {
          if (life) {
            life.generate();
            life.afterRegenerate(this.id);
          } else if (store.generate) (store.generate as (r: SessionRequest) => void)(req);
          else throw new TypeError('cannot regenerate a session outside the session middleware');
        } catch (e) {
          return done(e);
        }
        done(err && life ? life.mapStoreError(err) : err);
      });
    });
  }
}

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
