import { EventEmitter } from 'node:events';
import { inherits } from 'node:util';
import { type NodeCallback, promiseOrCallback } from '../node-callback';
import { type RequestSession, type SessionRequest, createSessionFromRecord } from '../session';
import type { SessionRecord } from '../session-data';
import { callStore } from './store-call';
import { STORE_BASE, type StoreBaseMark, type StoreLike } from './store-like';

/**
 * The express-session store base: an EventEmitter with `createSession`, `load` and `regenerate`.
 *
 * It is a plain function constructor (not a `class`) so both styles of subclass work:
 * `class MyStore extends Store { constructor() { super(); } }` and the ES5 style
 * `function MyStore() { Store.call(this); } util.inherits(MyStore, Store)`.
 * Subclasses provide `get`, `set`, `destroy` and ideally `touch`, with callbacks or promises.
 */
export interface Store extends EventEmitter {
  /** Installed by the session middleware: creates a fresh session on `req`. */
  generate?: (req: SessionRequest) => void;
  /**
   * Turns a stored record into `req.session` (a `Session` with a `Cookie`).
   * Throws a TypeError when the record has no cookie.
   */
  createSession(req: SessionRequest, data: SessionRecord): RequestSession;
  /** Loads a session by id: `fn(err)`, `fn()` when not found, or `fn(null, session)`. Returns a promise without `fn`. */
  load(sid: string, fn: NodeCallback<RequestSession | undefined>): void;
  load(sid: string): Promise<RequestSession | undefined>;
  /** Destroys `req.sessionID` and generates a new session on `req` (even when destroy failed). */
  regenerate(req: SessionRequest, fn: NodeCallback): void;
  regenerate(req: SessionRequest): Promise<void>;
}

/** The {@link Store} constructor: callable with `Store.call(this)` and extendable with `class … extends Store`. */
export interface StoreConstructor {
  new (): Store;
  (this: Store): void;
  readonly prototype: Store;
  readonly super_: typeof EventEmitter;
}

function StoreBase(this: Store): void {
  EventEmitter.call(this);
}
inherits(StoreBase, EventEmitter);

const proto = StoreBase.prototype as Store;

proto.createSession = function createSession(this: Store, req, data) {
  return createSessionFromRecord(req, data);
};

proto.load = function load(
  this: Store,
  sid: string,
  fn?: NodeCallback<RequestSession | undefined>,
) {
  return promiseOrCallback<RequestSession | undefined>(fn, (done) => {
    callStore<SessionRecord | null | undefined>(
      this as unknown as StoreLike,
      'get',
      [sid],
      undefined,
      (err, data) => {
        if (err) return done(err);
        if (!data) return done();
        const fakeReq = { sessionID: sid, sessionStore: this } as unknown as SessionRequest;
        let session: RequestSession;
        try {
          session = this.createSession(fakeReq, data);
        } catch (e) {
          return done(e);
        }
        done(null, session);
      },
    );
  }) as never;
} as Store['load'];

proto.regenerate = function regenerate(this: Store, req: SessionRequest, fn?: NodeCallback) {
  return promiseOrCallback<void>(fn, (done) => {
    callStore(this as unknown as StoreLike, 'destroy', [req.sessionID], undefined, (err) => {
      try {
        if (!this.generate)
          throw new TypeError('store.generate is not installed (no session middleware)');
        this.generate(req);
      } catch (e) {
        return done(e);
      }
      done(err);
    });
  }) as never;
} as Store['regenerate'];

const mark: StoreBaseMark = { regenerate: proto.regenerate };
Object.defineProperty(proto, STORE_BASE, { value: mark });

/** The store base constructor (see {@link Store}). */
export const Store = StoreBase as unknown as StoreConstructor;
