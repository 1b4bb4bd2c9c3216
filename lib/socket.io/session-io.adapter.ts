import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import { type SocketSessionOptions, SocketSessionTracker } from '../nest/socket-session-tracker';

type IoServer = ReturnType<IoAdapter['create']>;
type IoOptions = Parameters<IoAdapter['create']>[1];
type IoSocket = Parameters<IoAdapter['bindMessageHandlers']>[0];
/** A server or namespace: both take connection middleware. */
type Middleware = (socket: IoSocket, next: (err?: Error) => void) => void;
type Usable = { use(fn: Middleware): unknown };

/**
 * Nest's socket.io adapter with sessions: each connection's session is read at its handshake
 * from the upgrade request's cookie (or the `header` option's header), read only (never
 * created, no `Set-Cookie`). In gateways, `@Session()`, `@Session('key')`, `@SessionId()` and
 * `@RequireSession()` work as in controllers, `sessionOf(client)` in `handleConnection`; a
 * message handler's changes are saved when it completes. A socket whose session is destroyed
 * (logout, `destroyForUser`, here or on another instance sharing the RedisStore) is
 * disconnected.
 *
 * ```ts
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new SessionIoAdapter(app, { requireSession: true }));
 * ```
 */
export class SessionIoAdapter extends IoAdapter {
  private readonly sessions: SocketSessionTracker<IoSocket>;
  private readonly guarded = new WeakSet<object>();

  /**
   * @param app the application (its `SessionModule` provides the engine)
   * @param options see {@link SocketSessionOptions}
   */
  constructor(app: INestApplicationContext, options: SocketSessionOptions = {}) {
    super(app);
    this.sessions = new SocketSessionTracker<IoSocket>(
      app,
      {
        disconnect: (socket) => socket.disconnect(true),
        sendException: (socket, message) => socket.emit('exception', { status: 'error', message }),
      },
      options,
    );
  }

  /** Creates the server (or namespace) and reads each connection's session before it connects. */
  override create(port: number, options?: IoOptions): IoServer {
    const server = super.create(port, options);
    void this.sessions.start().catch(() => undefined);
    if (!this.guarded.has(server)) {
      this.guarded.add(server);
      (server as unknown as Usable).use((socket, next) => this.handshake(socket, next));
    }
    return server;
  }

  /** Saves the session after each message handler (when it changed it). */
  override bindMessageHandlers(
    socket: IoSocket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    super.bindMessageHandlers(socket, this.sessions.wrapHandlers(socket, handlers), transform);
  }

  /**
   * Resolves once sessions destroyed anywhere (another instance on the same Redis) disconnect
   * this instance's sockets: the store's revocation channel is subscribed.
   */
  ready(): Promise<void> {
    return this.sessions.ready();
  }

  /** Stops hearing revocations, then disposes as Nest's adapter does. */
  override async dispose(): Promise<void> {
    this.sessions.close();
    await super.dispose();
  }

  private handshake(socket: IoSocket, next: (err?: Error) => void): void {
    this.sessions.handshake(socket.request).then((result) => {
      if ('status' in result) {
        return next(Object.assign(new Error(result.message), { data: { status: result.status } }));
      }
      this.sessions.attach(socket, result);
      socket.once('disconnect', () => this.sessions.detach(socket));
      next();
    }, next);
  }
}
