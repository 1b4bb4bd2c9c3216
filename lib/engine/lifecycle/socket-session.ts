import type { IncomingMessage } from 'node:http';
import { fingerprint } from '../fingerprint';
import { installFlash } from '../flash';
import { setRequestState, unsetSessionProperty } from '../request-state';
import type { RequestSession, SessionRequest } from '../session';
import { snapshotKeys } from '../session-patch';
import { loadSession } from './load-session';
import { type EngineServices, RequestContext } from './request-context';
import type { SessionEngine } from './session-engine';

/**
 * The session of a long-lived connection (a WebSocket, a GraphQL subscription), read once from
 * its upgrade request by {@link loadSocketSession}.
 */
export interface SocketSession {
  /**
   * The upgrade request, carrying `session`, `sessionID` and `sessionStore` as an HTTP request
   * does (the session methods, the decorators and `SessionGuard` work on it). Without a valid
   * existing session, `session` and `sessionID` are unset.
   */
  readonly req: SessionRequest;
  /** The request carried the id of a session the store still has (and it was not destroyed since). */
  readonly exists: boolean;
  /** The id the session was loaded with, or `undefined`. */
  readonly loadedId: string | undefined;
  /**
   * Saves the session when it changed since it was loaded, last saved or reloaded (a message
   * handler's changes), with `concurrency: 'merge'` as a patch. Resolves `false` when the store
   * refused because the session no longer exists (destroyed elsewhere), `true` otherwise.
   * Rejects with the store's error.
   */
  commit(): Promise<boolean>;
}

/**
 * The context of a socket's session: the request's bookkeeping, plus the baseline a
 * `reload()` resets (what the socket saw last, for change detection and merge patches).
 */
class SocketContext extends RequestContext<undefined> {
  /** A `reload()` found the session gone from the store. */
  gone = false;

  afterReload(session: RequestSession | undefined): void {
    if (!session) {
      this.gone = true;
      return;
    }
    const hash = fingerprint(session);
    this.originalHash = hash;
    this.savedHash = hash;
    this.savedId = session.id;
    this.refused = false;
    if (this.engine.options.concurrency === 'merge') this.snapshot = snapshotKeys(session);
  }
}

class LoadedSocketSession implements SocketSession {
  constructor(
    readonly req: SessionRequest,
    private readonly context: SocketContext | undefined,
  ) {}

  get loadedId(): string | undefined {
    return this.context?.originalId;
  }

  get exists(): boolean {
    const context = this.context;
    return (
      !!context &&
      context.loadedFromStore &&
      !!this.req.session &&
      !context.refused &&
      !context.gone
    );
  }

  async commit(): Promise<boolean> {
    const context = this.context;
    const session = this.req.session;
    if (!context || !session) return true;
    if (context.gone) return false;
    const baseline =
      context.savedId === session.id && context.savedHash !== undefined
        ? context.savedHash
        : context.originalId === session.id
          ? context.originalHash
          : undefined;
    if (baseline !== undefined && fingerprint(session) === baseline) return !context.refused;
    await session.save();
    return !context.refused;
  }
}

/** Engine services that read with a plain `get`: a handshake never refreshes the expiry. */
function readOnlyServices(engine: SessionEngine<unknown>): EngineServices<undefined> {
  return {
    options: engine.options,
    storeImplementsTouch: false,
    recentTouches: engine.recentTouches,
    idTransport: engine.idTransport as EngineServices<undefined>['idTransport'],
    host: engine.host as EngineServices<undefined>['host'],
    emit: (name, event) => engine.emit(name, event),
  };
}

/**
 * Reads the session of a socket from its upgrade request, read only: the id comes from the
 * engine's id transport (the signed cookie, or the `header` option's header when the request
 * carries it), the record from the store, checked as an HTTP request's is (expired, tampered,
 * unusable or missing: no session). Nothing is created, touched or sent back. The request gets
 * `req.session`/`req.sessionID` and the engine's state, so `SessionGuard` sees an existing
 * session.
 *
 * Rejects when the store fails (or is disconnected) or when no secret is configured.
 */
export function loadSocketSession(
  engine: SessionEngine<unknown>,
  request: IncomingMessage,
): Promise<SocketSession> {
  const req = request as SessionRequest;
  installFlash(req);
  const o = engine.options;
  if (!engine.storeReady) {
    return Promise.reject(new Error('nest-session: the session store is not connected'));
  }
  const cookieOptions = engine.cookieOptionsFor(req);
  const transport = engine.idTransport.forRequest?.(req) ?? engine.idTransport;
  const none = (): SocketSession => {
    unsetSessionProperty(req, 'session');
    unsetSessionProperty(req, 'sessionID');
    return new LoadedSocketSession(req, undefined);
  };
  if (!transport.inScope(req, cookieOptions)) return Promise.resolve(none());
  const secrets = engine.secretsFor(req);
  if (!secrets) return Promise.reject(new Error('secret option required for sessions'));
  const id = transport.read(req, secrets)?.id;
  if (!id) return Promise.resolve(none());

  return new Promise<SocketSession>((resolve, reject) => {
    let settled = false;
    const next = (err?: unknown): void => {
      if (settled) {
        // A late background failure (discarding a bad record, indexing the user).
        if (err) console.error('nest-session:', err);
        return;
      }
      settled = true;
      if (err) return reject(err);
      if (!context.loadedFromStore) return resolve(none());
      resolve(new LoadedSocketSession(req, context));
    };
    const services = readOnlyServices(engine);
    const context = new SocketContext(services, req, undefined, next, cookieOptions, secrets, id);
    req.sessionStore = o.store;
    setRequestState(req, context);
    req.sessionID = id;
    loadSession(context, id);
  });
}
