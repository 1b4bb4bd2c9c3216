/**
 * A real Nest application with sessions over HTTP (login, logout, a note, sign out everywhere)
 * and a gateway on socket.io or ws reading the same sessions, for the WebSocket e2e suites.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Get, type INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  RequireSession,
  type RequestSession,
  Session,
  SessionId,
  SessionModule,
  type SessionModuleOptions,
  SessionService,
} from '../../lib';
import { SessionIoAdapter, type SocketSessionOptions, sessionOf } from '../../lib/socket.io';
import { SessionWsAdapter } from '../../lib/ws';
import { type HttpAdapterKind, createAppOn, initApp } from './http-adapters';
import { type SocketKind, WS_PATH } from './socket-clients';

type Data = Record<string, unknown>;

@Controller()
class AccountController {
  constructor(private readonly sessions: SessionService) {}

  @Post('login') async login(@Session() s: RequestSession, @Body() body: { user?: string }) {
    await s.regenerate();
    const fresh = s.req.session as unknown as Data;
    fresh.user = body.user ?? 'alice';
    return { ok: true };
  }
  @Post('logout') async logout(@Session() s: RequestSession) {
    await s.destroy();
    return { ok: true };
  }
  @Post('note') note(@Session() s: RequestSession, @Body() body: { note: string }) {
    (s as unknown as Data).note = body.note;
    return { ok: true };
  }
  @Get('me') me(@Session() s: RequestSession) {
    const { cookie: _cookie, ...data } = s as unknown as Data;
    return data;
  }
  @Post('everywhere') async everywhere(@Session('user' as never) user: string) {
    return { revoked: await this.sessions.destroyForUser(user) };
  }
}

/** Users seen by `handleConnection` (through `sessionOf`), per application. */
export type Seen = (string | null)[];

function gatewayFor(kind: SocketKind, seen: Seen) {
  @WebSocketGateway(kind === 'ws' ? { path: WS_PATH } : {})
  class LiveGateway implements OnGatewayConnection {
    handleConnection(client: object): void {
      seen.push(((sessionOf(client) as Data | undefined)?.user as string | null) ?? null);
    }
    @SubscribeMessage('whoami') whoami(
      @Session('user' as never) user: string | undefined,
      @SessionId() id: string | undefined,
    ) {
      return { event: 'whoami', data: { user: user ?? null, id: id ?? null } };
    }
    @SubscribeMessage('add') add(
      @Session() s: RequestSession | undefined,
      @MessageBody() item: string,
    ) {
      if (!s) return { event: 'add', data: null };
      const data = s as unknown as { cart?: string[] };
      data.cart = [...(data.cart ?? []), item];
      return { event: 'add', data: data.cart };
    }
    @RequireSession('user' as never)
    @SubscribeMessage('secret')
    secret() {
      return { event: 'secret', data: 'ok' };
    }
    @SubscribeMessage('reload') async reload(@ConnectedSocket() client: object) {
      await sessionOf(client)?.reload();
      return { event: 'reload', data: (sessionOf(client) as Data | undefined)?.note ?? null };
    }
    @SubscribeMessage('save') async save(@Session() s: RequestSession) {
      (s as unknown as Data).saved = 'explicitly';
      await s.save();
      return { event: 'save', data: 'saved' };
    }
  }
  return LiveGateway;
}

/** A running application. */
export interface SocketApp {
  app: INestApplication;
  port: number;
  adapter: SessionIoAdapter | SessionWsAdapter;
  seen: Seen;
  close(): Promise<void>;
}

/** Boots the application on `http` with a `kind` gateway, listening on a free port. */
export async function startSocketApp(
  http: HttpAdapterKind,
  kind: SocketKind,
  session: SessionModuleOptions,
  socket: SocketSessionOptions = {},
): Promise<SocketApp> {
  const seen: Seen = [];
  @Module({
    imports: [SessionModule.forRoot({ userKey: 'user', ...session })],
    controllers: [AccountController],
    providers: [gatewayFor(kind, seen)],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = createAppOn(moduleRef, http);
  const adapter =
    kind === 'ws' ? new SessionWsAdapter(app, socket) : new SessionIoAdapter(app, socket);
  app.useWebSocketAdapter(adapter);
  await initApp(app);
  await app.listen(0, '127.0.0.1');
  await adapter.ready();
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, adapter, seen, close: () => app.close() };
}
