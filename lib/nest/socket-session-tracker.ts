import type { IncomingMessage } from 'node:http';
import { type INestApplicationContext, Logger } from '@nestjs/common';
import { type SocketSession, loadSocketSession } from '../engine/lifecycle/socket-session';
import type { SessionEngine } from '../engine/lifecycle/session-engine';
import type { RevocationSubscription } from '../engine/store/store-like';
import { SESSION_ENGINE } from './session.constants';
import { bindSocketSession, socketSessionOf } from './socket-session-registry';

/** Options of `SessionIoAdapter` and `SessionWsAdapter`. */
export interface SocketSessionOptions {
  /**
   * Refuse a connection whose handshake carries no valid existing session (default `false`:
   * such a socket connects with no session). socket.io: the client's `connect_error` has the
   * message `'A session is required'` (`err.data.status` 401); ws: the upgrade is answered
   * `401 Unauthorized`.
   */
  requireSession?: boolean;
}

/** Why a handshake is refused: the HTTP status and the message the client gets. */
export interface HandshakeRefusal {
  status: 401 | 503;
  message: string;
}

/** What an adapter does to one of its clients. @internal */
export interface SocketClientActions<C> {
  /** Closes the connection: its session is gone. */
  disconnect(client: C): void;
  /** Tells the client that something failed (an `exception` event). */
  sendException(client: C, message: string): void;
}

/** The message a refused handshake gets when no session is required. */
export const SESSION_REQUIRED = 'A session is required';

/**
 * The session side of a WebSocket adapter, whatever the library: reads each handshake's session
 * (once per upgrade request), refuses what `requireSession` refuses, saves after each message
 * handler, and closes the sockets of a session that is destroyed (here or, with a shared store
 * that reports it, in another process).
 * @internal
 */
export class SocketSessionTracker<C extends object> {
  private readonly logger = new Logger('Session');
  private readonly handshakes = new WeakMap<IncomingMessage, Promise<SocketSession>>();
  /** The connected clients of each session id. */
  private readonly clients = new Map<string, Set<C>>();
  private subscription: RevocationSubscription | undefined;
  private cachedEngine: SessionEngine<unknown> | undefined;

  constructor(
    private readonly app: INestApplicationContext,
    private readonly actions: SocketClientActions<C>,
    readonly options: SocketSessionOptions = {},
  ) {}

  /** The application's session engine (`SessionModule` must be imported). */
  engine(): SessionEngine<unknown> {
    if (this.cachedEngine) return this.cachedEngine;
    let engine: SessionEngine<unknown> | undefined;
    try {
      engine = this.app.get<symbol, SessionEngine<unknown>>(SESSION_ENGINE, { strict: false });
    } catch {
      engine = undefined;
    }
    if (!engine) {
      throw new Error('nest-session: the WebSocket session adapter needs SessionModule imported');
    }
    this.cachedEngine = engine;
    return engine;
  }

  /** Starts hearing destroys (once); resolves once they are heard (see {@link ready}). */
  start(): Promise<void> {
    if (!this.subscription) {
      const store = this.engine().options.store;
      this.subscription =
        typeof store.onRevoked === 'function'
          ? store.onRevoked((sid) => this.revoke(sid))
          : { ready: Promise.resolve(), close: () => undefined };
      this.subscription.ready.catch((err: unknown) =>
        this.logger.warn(`live sockets will not hear of destroyed sessions: ${String(err)}`),
      );
    }
    return this.subscription.ready;
  }

  /** Resolves once destroys made anywhere reach this process's sockets (rejects if they cannot). */
  ready(): Promise<void> {
    return this.start();
  }

  /** Stops hearing destroys. */
  close(): void {
    this.subscription?.close();
    this.subscription = undefined;
  }

  /**
   * Reads the session of an upgrade request (once per request: socket.io namespaces share it)
   * and says whether to refuse the connection.
   */
  async handshake(req: IncomingMessage): Promise<SocketSession | HandshakeRefusal> {
    let pending = this.handshakes.get(req);
    if (!pending) {
      pending = loadSocketSession(this.engine(), req);
      this.handshakes.set(req, pending);
    }
    let state: SocketSession;
    try {
      state = await pending;
    } catch (err) {
      this.logger.error(`a WebSocket handshake could not read its session: ${String(err)}`);
      return { status: 503, message: 'The session store is unavailable' };
    }
    if (this.options.requireSession && !state.exists) {
      return { status: 401, message: SESSION_REQUIRED };
    }
    return state;
  }

  /** Links a connected client to its handshake's session (and to that session's revocation). */
  attach(client: C, state: SocketSession): void {
    bindSocketSession(client, state);
    const sid = state.exists ? state.loadedId : undefined;
    if (sid === undefined) return;
    let set = this.clients.get(sid);
    if (!set) this.clients.set(sid, (set = new Set()));
    set.add(client);
  }

  /** Forgets a disconnected client. */
  detach(client: C): void {
    const sid = socketSessionOf(client)?.loadedId;
    if (sid === undefined) return;
    const set = this.clients.get(sid);
    set?.delete(client);
    if (set?.size === 0) this.clients.delete(sid);
  }

  /** Closes every client of a destroyed session. */
  revoke(sid: string): void {
    const set = this.clients.get(sid);
    if (!set) return;
    this.clients.delete(sid);
    for (const client of set) {
      try {
        this.actions.disconnect(client);
      } catch (err) {
        this.logger.error(err);
      }
    }
  }

  /** `handlers` whose callbacks save the session when they complete (see {@link afterHandler}). */
  wrapHandlers<H extends { callback: unknown }>(client: C, handlers: readonly H[]): H[] {
    return handlers.map((handler) => ({
      ...handler,
      callback: (...args: unknown[]) =>
        this.afterHandler(client, (handler.callback as (...a: unknown[]) => unknown)(...args)),
    }));
  }

  /**
   * Runs after a message handler: waits for its result, then saves the session if the handler
   * changed it. A store failure becomes an `exception` for the client (and no answer); a session
   * found destroyed (the save refused, a `reload()` that found nothing) closes the client.
   */
  async afterHandler(client: C, result: unknown): Promise<unknown> {
    const value: unknown = await result;
    const state = socketSessionOf(client);
    if (!state?.loadedId) return value;
    try {
      const kept = await state.commit();
      if (!kept || !state.exists) this.revokeClient(client, state.loadedId);
    } catch (err) {
      this.logger.error(`a WebSocket message could not save its session: ${String(err)}`);
      this.actions.sendException(client, 'The session could not be saved');
      return undefined;
    }
    return value;
  }

  private revokeClient(client: C, sid: string): void {
    this.clients.get(sid)?.delete(client);
    this.actions.disconnect(client);
  }
}
