import 'reflect-metadata';
import {
  Controller,
  type ExecutionContext,
  ForbiddenException,
  Get,
  type INestApplication,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import {
  OptionalSession,
  type RequestSession,
  RequireSession,
  Session,
  SessionGuard,
  SessionModule,
  type SessionValue,
} from '../../lib';
import { bootApp } from './fixtures/app';
import { ProbeController } from './fixtures/probe.controller';
import { testSecret } from './fixtures/secret';
import { HTTP_ADAPTERS } from '../support/http-adapters';

const UNAUTHORIZED = { statusCode: 401, error: 'Unauthorized' };

@Controller('guarded')
class PerRouteController {
  @Get('open') open() {
    return { open: true };
  }

  @Get('any-session')
  @UseGuards(SessionGuard)
  anySession(@Session('visits') visits: SessionValue<'visits'>) {
    return { visits: visits ?? null };
  }

  /** Modifies the session before the guard could see it: still 401 (not loaded from the store). */
  @Get('fresh')
  @UseGuards(SessionGuard)
  fresh(@Session() session: RequestSession) {
    session.visits = 1;
    return { reached: true };
  }
}

@Controller('members')
@RequireSession('userId')
class MembersController {
  @Get() list(@Session('userId') userId: SessionValue<'userId'>) {
    return { userId };
  }

  @Get('admin')
  @RequireSession('role')
  admin(@Session('role') role: SessionValue<'role'>) {
    return { role };
  }
}

/** Only sessions with role 'admin'; a 403 of its own instead of the 401. */
@Injectable()
class AdminSessionGuard extends SessionGuard {
  protected override isSatisfied(
    session: RequestSession,
    keys: readonly string[],
    context: ExecutionContext,
  ): boolean {
    return super.isSatisfied(session, keys, context) && session.role === 'admin';
  }

  protected override reject(context: ExecutionContext, message: string): never {
    // `url`: Express's request and FastifyRequest both have it (`path` is Express's only).
    const path = context.switchToHttp().getRequest<{ url: string }>().url;
    throw new ForbiddenException({ statusCode: 403, reason: message, path });
  }
}

@Controller('backoffice')
@UseGuards(AdminSessionGuard)
class BackofficeController {
  @Get() index() {
    return { backoffice: true };
  }
}

async function signIn(app: INestApplication, body: Record<string, string> = {}) {
  const agent = request.agent(app.getHttpServer());
  await agent.post('/login').send(body).expect(201);
  return agent;
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe('SessionGuard per route', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await bootApp(
        {
          imports: [SessionModule.forRoot({ secret: testSecret() })],
          controllers: [
            ProbeController,
            PerRouteController,
            MembersController,
            BackofficeController,
          ],
        },
        adapter,
      );
    });
    afterAll(() => app.close());

    it('@UseGuards(SessionGuard): 401 without a session, 200 with an existing one', async () => {
      const anon = await request(app.getHttpServer()).get('/guarded/any-session');
      expect(anon.status).toBe(401);
      expect(anon.body).toEqual({ ...UNAUTHORIZED, message: 'A session is required' });
      expect((await request(app.getHttpServer()).get('/guarded/open')).status).toBe(200);

      const agent = request.agent(app.getHttpServer());
      await agent.get('/count').expect(200);
      expect((await agent.get('/guarded/any-session')).body).toEqual({ visits: 1 });
    });

    it('does not accept a session created during this very request', async () => {
      const res = await request(app.getHttpServer()).get('/guarded/fresh');
      expect(res.status).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('refuses a forged or unknown cookie', async () => {
      const res = await request(app.getHttpServer())
        .get('/guarded/any-session')
        .set('Cookie', 'sid=s%3Anot-a-session.bad-signature');
      expect(res.status).toBe(401);
    });

    it('@RequireSession on a controller requires the key; keys on a handler add up', async () => {
      const visitor = request.agent(app.getHttpServer());
      await visitor.get('/count').expect(200);
      const lacking = await visitor.get('/members');
      expect(lacking.status).toBe(401);
      expect(lacking.body).toEqual({
        ...UNAUTHORIZED,
        message: 'The session lacks what this route requires',
      });

      const member = await signIn(app, { userId: 'm-1' });
      expect((await member.get('/members')).body).toEqual({ userId: 'm-1' });
      expect((await member.get('/members/admin')).status).toBe(401);

      const admin = await signIn(app, { userId: 'a-1', role: 'root' });
      expect((await admin.get('/members/admin')).body).toEqual({ role: 'root' });
    });

    it('a subclassed guard can change the check and the exception', async () => {
      const anon = await request(app.getHttpServer()).get('/backoffice');
      expect(anon.status).toBe(403);
      expect(anon.body).toEqual({
        statusCode: 403,
        reason: 'A session is required',
        path: '/backoffice',
      });
      const member = await signIn(app, { userId: 'm-2', role: 'editor' });
      const refused = await member.get('/backoffice');
      expect(refused.status).toBe(403);
      expect(refused.body.reason).toBe('The session lacks what this route requires');
      const admin = await signIn(app, { userId: 'a-2', role: 'admin' });
      expect((await admin.get('/backoffice')).body).toEqual({ backoffice: true });
    });
  });

  @Controller('public')
  @OptionalSession()
  class PublicController {
    @Get() index() {
      return { public: true };
    }
  }

  @Controller('mixed')
  class MixedController {
    @Get('private') secret(@Session('userId') userId: SessionValue<'userId'>) {
      return { userId };
    }

    @Get('open')
    @OptionalSession()
    open() {
      return { open: true };
    }
  }

  /** Sign-in must be reachable without a session when the guard is global. */
  @Controller('auth')
  @OptionalSession()
  class AuthController {
    @Get('login') login(@Session() session: RequestSession) {
      session.userId = 'global-user';
      return { ok: true };
    }
  }

  describe('SessionGuard as a global APP_GUARD', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await bootApp(
        {
          imports: [SessionModule.forRoot({ secret: testSecret() })],
          controllers: [PublicController, MixedController, AuthController, MembersController],
          providers: [{ provide: APP_GUARD, useClass: SessionGuard }],
        },
        adapter,
      );
    });
    afterAll(() => app.close());

    it('protects every route unless @OptionalSession() opts it out', async () => {
      const http = () => request(app.getHttpServer());
      expect((await http().get('/mixed/private')).status).toBe(401);
      expect((await http().get('/members')).status).toBe(401);
      expect((await http().get('/public')).body).toEqual({ public: true });
      expect((await http().get('/mixed/open')).body).toEqual({ open: true });

      const agent = request.agent(app.getHttpServer());
      await agent.get('/auth/login').expect(200);
      expect((await agent.get('/mixed/private')).body).toEqual({ userId: 'global-user' });
      expect((await agent.get('/members')).body).toEqual({ userId: 'global-user' });
      expect((await agent.get('/members/admin')).status).toBe(401);
    });
  });
});
