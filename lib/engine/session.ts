import type { Cookie } from './cookie';
import { NodeCallback } from './node-callback';
import { SESSION_STATE, SessionLifecycle } from './request-state';
import type { RequestSession, SessionRecord, SessionRequest } from './session-data';
import { SessionPromise } from './session-promise';
import { callStore } from '../stores/store-call';
import type { StoreLike } from '../stores/store-like';
import { createSessionFromRecord, Store } from '../stores/store';

function lifecycleOf(req: SessionRequest): SessionLifecycle | undefined {
  return (req as SessionRequest & { [SESSION_STATE]?: SessionLifecycle })[SESSION_STATE];
}

function storeOf(session: Session): StoreLike {
  const store = session.req.sessionStore;
  if (!store) throw new TypeError('session has no store (req.sessionStore is not set)');
  return store;
}

/**
 * Turns a stored record into `req.session`, through the store's own `createSession` when the
 * store is built on our {@link Store}, and through our own logic otherwise (so `req.session` is
 * always one of our sessions, even for stores built on express-session's base).
 * @internal
 */
export function inflateSession(
  store: StoreLike,
  req: SessionRequest,
  data: SessionRecord,
): RequestSession {
  return store instanceof Store
    ? (store as Store).createSession(req, data)
    : createSessionFromRecord(req, data);
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
        callStore(store, patch ? 'patch' : 'set', args, life?.storeTimeout, (err) => {
          if (err) life?.onStoreError('set', this.id, err);
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
          if (!data) return done(new Error('failed to load session'));
          try {
            inflateSession(store, req, data);
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
      delete req.session;
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
    for (const key of options?.keep ?? []) {
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
      const own = store.regenerate === undefined || store.regenerate === Store.prototype.regenerate;
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
