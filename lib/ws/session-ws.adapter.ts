import type { IncomingMessage } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { SocketSession } from '../engine/lifecycle/socket-session';
import { type SocketSessionOptions, SocketSessionTracker } from '../nest/socket-session-tracker';

/** The part of a `ws` WebSocket the adapter uses (no import of `ws`, a peer of platform-ws). */
interface WsClient {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'exception', listener: (payload: unknown) => void): unknown;
}

/** ws's `verifyClient` callback: accept, or refuse with an HTTP status and message. */
type VerifyCallback = (accept: boolean, code?: number, message?: string) => void;
type VerifyInfo = { req: IncomingMessage; origin: string; secure: boolean };
type UserVerify =
  ((info: VerifyInfo, cb: VerifyCallback) => void) | ((info: VerifyInfo) => boolean);
type WsServer = {
  on(event: 'connection', fn: (ws: WsClient, req: IncomingMessage) => void): unknown;
};

const OPEN = 1;

/** The close code of a socket whose session was destroyed (4000-4999: for applications). */
export const SESSION_ENDED_CLOSE_CODE = 4401;

/**
 * Nest's `ws` adapter with sessions: each connection's session is read before the upgrade is
 * accepted, from the upgrade request's cookie (or the `header` option's header), read only
 * (never created, no `Set-Cookie`). With `requireSession`, an upgrade without a valid existing
 * session is answered `401 Unauthorized`. In gateways, `@Session()`, `@Session('key')`,
 * `@SessionId()` and `@RequireSession()` work as in controllers, `sessionOf(client)` in
 * `handleConnection`; a message handler's changes are saved when it completes. A socket whose
 * session is destroyed (here, or on another instance sharing the RedisStore) is closed with code
 * {@link SESSION_ENDED_CLOSE_CODE} (4401).
 *
 * The exceptions a gateway raises (a `WsException`, `@RequireSession()`'s refusal) are sent to
 * the client as `{ "event": "exception", "data": { "status": "error", "message": … } }`
 * (Nest's own `WsAdapter` only emits them on the server-side object).
 *
 * ```ts
 * app.useWebSocketAdapter(new SessionWsAdapter(app));
 * ```
 */
export class SessionWsAdapter extends WsAdapter {
  private readonly sessions: SocketSessionTracker<WsClient>;
  private readonly accepted = new WeakMap<IncomingMessage, SocketSession>();
  private readonly watched = new WeakSet<object>();

  /**
   * @param app the application (its `SessionModule` provides the engine)
   * @param options see {@link SocketSessionOptions}
   * @param wsOptions Nest's `WsAdapter` options (`messageParser`)
   */
  constructor(
    app: INestApplicationContext,
    options: SocketSessionOptions = {},
    wsOptions?: ConstructorParameters<typeof WsAdapter>[1],
  ) {
    super(app, wsOptions);
    this.sessions = new SocketSessionTracker<WsClient>(
      app,
      {
        disconnect: (client) => client.close(SESSION_ENDED_CLOSE_CODE, 'Session ended'),
        sendException: (client, message) => sendException(client, { status: 'error', message }),
      },
      options,
    );
  }

  /** Creates the server with a `verifyClient` that reads (and may refuse) the session. */
  override create(port: number, options?: Parameters<WsAdapter['create']>[1]): unknown {
    const user = options?.verifyClient as UserVerify | undefined;
    const verifyClient = (info: VerifyInfo, cb: VerifyCallback): void =>
      this.verify(info, cb, user);
    const server = super.create(port, { ...options, verifyClient }) as WsServer;
    void this.sessions.start().catch(() => undefined);
    if (!this.watched.has(server)) {
      this.watched.add(server);
      server.on('connection', (client, req) => this.connected(client, req));
    }
    return server;
  }

  /** Saves the session after each message handler (when it changed it). */
  override bindMessageHandlers(
    client: WsClient,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    super.bindMessageHandlers(client, this.sessions.wrapHandlers(client, handlers), transform);
  }

  /** Resolves once sessions destroyed anywhere close this instance's sockets. */
  ready(): Promise<void> {
    return this.sessions.ready();
  }

  /** Stops hearing revocations, then disposes as Nest's adapter does. */
  override async dispose(): Promise<void> {
    this.sessions.close();
    await super.dispose();
  }

  private verify(info: VerifyInfo, cb: VerifyCallback, user: UserVerify | undefined): void {
    this.sessions.handshake(info.req).then(
      (result) => {
        if ('status' in result) return cb(false, result.status, result.message);
        this.accepted.set(info.req, result);
        if (!user) return cb(true);
        if (user.length >= 2) return (user as (i: VerifyInfo, c: VerifyCallback) => void)(info, cb);
        cb((user as (i: VerifyInfo) => boolean)(info));
      },
      () => cb(false, 503, 'The session store is unavailable'),
    );
  }

  private connected(client: WsClient, req: IncomingMessage): void {
    client.on('exception', (payload) => sendException(client, payload));
    const state = this.accepted.get(req);
    if (!state) return;
    this.sessions.attach(client, state);
    client.on('close', () => this.sessions.detach(client));
  }
}

function sendException(client: WsClient, payload: unknown): void {
  if (client.readyState === OPEN)
    client.send(JSON.stringify({ event: 'exception', data: payload }));
}
