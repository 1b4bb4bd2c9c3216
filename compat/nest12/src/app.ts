/**
 * The sample's session flows as an ESM app on Nest 12, importing nest-session the way a user's
 * app does: from the installed package (`nest-session`, the `npm pack` tarball), not from lib/.
 */
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  RequireSession,
  Session,
  SessionId,
  SessionModule,
  SessionStore,
  type RequestSession,
  type SessionRequest,
  type SessionValue,
} from 'nest-session';

declare module 'nest-session' {
  interface SessionData {
    visits: number;
    userId: string;
    cart: string[];
  }
}

const USERS: Record<string, string> = { alice: 'wonderland', bob: 'builder' };

/** `GET /counter`: counts this visitor's visits. */
@Controller('counter')
class CounterController {
  @Get()
  visit(@Session() session: RequestSession): { visits: number } {
    session.visits = (session.visits ?? 0) + 1;
    return { visits: session.visits };
  }
}

@Controller('auth')
class AuthController {
  /** Signs in on a brand-new session id, keeping the visitor's cart. */
  @Post('login')
  @HttpCode(200)
  async login(
    @Session() session: RequestSession,
    @Req() req: SessionRequest,
    @Body() body: { username?: string; password?: string },
  ): Promise<{ user: string; sessionId: string }> {
    const { username, password } = body ?? {};
    if (!username || USERS[username] === undefined || USERS[username] !== password) {
      throw new UnauthorizedException('wrong username or password');
    }
    await session.regenerate({ keep: ['cart'] });
    // The new session (new id) is on the request now; `session` is the destroyed one.
    const fresh = req.session as RequestSession;
    fresh.userId = username;
    return { user: username, sessionId: fresh.id };
  }

  /** Destroys the session; the module clears the cookie. */
  @Post('logout')
  @HttpCode(200)
  async logout(@Session() session: RequestSession): Promise<{ signedOut: true }> {
    await session.destroy();
    return { signedOut: true };
  }
}

@Controller('profile')
class ProfileController {
  /** 401 unless an existing session holds `userId`. */
  @Get()
  @RequireSession('userId')
  show(
    @Session('userId') userId: SessionValue<'userId'>,
    @Session('cart') cart: SessionValue<'cart'>,
    @SessionId() id: string,
  ): { userId: string; cart: string[]; sessionId: string } {
    return { userId: userId as string, cart: cart ?? [], sessionId: id };
  }
}

@Controller('cart')
class CartController {
  @Post()
  @HttpCode(200)
  add(@Session() session: RequestSession, @Body() body: { item: string }): string[] {
    session.cart = [...(session.cart ?? []), body.item];
    return session.cart;
  }
}

/** Uses the injected `SessionStore` (the store the module runs on). */
@Injectable()
class AdminService {
  constructor(readonly store: SessionStore) {}

  async sessions(): Promise<{ ids: string[]; length: number | undefined }> {
    const ids = (await this.store.ids?.()) ?? [];
    return { ids, length: await this.store.length?.() };
  }

  async revoke(id: string): Promise<void> {
    await this.store.destroy(id);
  }
}

@Controller('admin')
class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get('sessions')
  sessions(): Promise<{ ids: string[]; length: number | undefined }> {
    return this.admin.sessions();
  }

  @Post('revoke')
  @HttpCode(200)
  async revoke(@Body() body: { id: string }): Promise<{ revoked: string }> {
    await this.admin.revoke(body.id);
    return { revoked: body.id };
  }
}

@Module({})
class AppModule {
  static with(store: SessionStore | undefined): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SessionModule.forRoot({
          secret: 'compat-nest12-secret-of-at-least-32-characters',
          cookie: { maxAge: 60_000 },
          store,
        }),
      ],
      controllers: [
        CounterController,
        AuthController,
        ProfileController,
        CartController,
        AdminController,
      ],
      providers: [AdminService],
    };
  }
}

/** The app on `store` (the module's default MemoryStore when undefined), listening on a free port. */
export async function startApp(
  store?: SessionStore,
): Promise<{ app: INestApplication; baseUrl: string; store: SessionStore }> {
  const app = await NestFactory.create(AppModule.with(store), { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, store: app.get(SessionStore) };
}
