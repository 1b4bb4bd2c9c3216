/**
 * A Nest 12 (ESM) app using sessions outside controllers, importing nest-session as a user's app
 * does (the `npm pack` tarball): GraphQL resolvers on Apollo (Express), and a WebSocket gateway
 * on `nest-session/socket.io` or `nest-session/ws`. The default MemoryStore.
 */
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post, Req, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import {
  RequireSession,
  Session,
  SessionId,
  SessionModule,
  type RequestSession,
  type SessionRequest,
  type SessionValue,
} from 'nest-session';
import { SessionIoAdapter, sessionOf as ioSessionOf } from 'nest-session/socket.io';
import { SessionWsAdapter, sessionOf as wsSessionOf } from 'nest-session/ws';

declare module 'nest-session' {
  interface SessionData {
    user: string;
    name: string;
    messages: number;
  }
}

@Controller('auth')
class AuthController {
  /** Signs in as `alice` on a new session id. */
  @Post('login')
  @HttpCode(200)
  async login(@Req() req: SessionRequest): Promise<{ sessionId: string }> {
    await (req.session as RequestSession).regenerate();
    const fresh = req.session as RequestSession;
    fresh.user = 'alice';
    return { sessionId: fresh.id };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: SessionRequest): Promise<{ signedOut: true }> {
    await (req.session as RequestSession).destroy();
    return { signedOut: true };
  }
}

const typeDefs = /* GraphQL */ `
  type Query {
    me: String
    sessionId: String
    name: String
    messages: Int
  }
  type Mutation {
    rename(name: String!): String
  }
`;

@Resolver()
class SessionResolver {
  @Query('me')
  @RequireSession('user')
  me(@Session('user') user: SessionValue<'user'>): string | undefined {
    return user;
  }

  @Query('sessionId')
  sessionId(@SessionId() id: string | undefined): string | null {
    return id ?? null;
  }

  @Query('name')
  name(@Session() session: RequestSession | undefined): string | null {
    return session?.name ?? null;
  }

  @Query('messages')
  messages(@Session('messages') messages: SessionValue<'messages'>): number | null {
    return messages ?? null;
  }

  @Mutation('rename')
  @RequireSession('user')
  rename(@Session() session: RequestSession, @Args('name') name: string): string {
    session.name = name;
    return name;
  }
}

export type SocketKind = 'socket.io' | 'ws';

/** The gateway's view of a socket: what `handleConnection` saw, per socket. */
export const connections: { user: string | undefined }[] = [];

function gatewayFor(kind: SocketKind) {
  const sessionOf = kind === 'socket.io' ? ioSessionOf : wsSessionOf;
  @WebSocketGateway()
  class SessionGateway implements OnGatewayConnection {
    handleConnection(client: unknown): void {
      connections.push({ user: sessionOf(client as never)?.user });
    }

    @SubscribeMessage('whoami')
    @RequireSession('user')
    whoami(@Session('user') user: SessionValue<'user'>, @SessionId() id: string | undefined) {
      return { event: 'whoami', data: { user, id } };
    }

    /** Counts messages in the session: saved when the handler completes. */
    @SubscribeMessage('count')
    count(@Session() session: RequestSession, @MessageBody() _body: unknown) {
      session.messages = (session.messages ?? 0) + 1;
      return { event: 'count', data: session.messages };
    }
  }
  return SessionGateway;
}

export async function startApp(kind: SocketKind): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [
      SessionModule.forRoot({ secret: 'a compat secret of at least 32 chars!' }),
      GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs }),
    ],
    controllers: [AuthController],
    providers: [SessionResolver, gatewayFor(kind)],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: false });
  app.useWebSocketAdapter(
    kind === 'socket.io' ? new SessionIoAdapter(app) : new SessionWsAdapter(app),
  );
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}
