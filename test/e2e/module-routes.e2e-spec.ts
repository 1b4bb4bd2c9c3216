import 'reflect-metadata';
import { Controller, Get, type INestApplication, Post, RequestMethod, Req } from '@nestjs/common';
import request from 'supertest';
import { type SessionModuleOptions, SessionModule, type SessionRequest } from '../../lib';
import { HTTP_ADAPTERS, type HttpAdapterKind } from '../support/http-adapters';
import { bootApp } from './fixtures/app';
import { testSecret } from './fixtures/secret';

const has = (req: SessionRequest) => ({ hasSession: req.session != null });

@Controller()
class RootController {
  @Get() root(@Req() req: SessionRequest) {
    return has(req);
  }
  @Get('health') health(@Req() req: SessionRequest) {
    return has(req);
  }
  @Get('assets/app.js') asset(@Req() req: SessionRequest) {
    return has(req);
  }
  @Get('other') other(@Req() req: SessionRequest) {
    return has(req);
  }
}

@Controller('api')
class ApiController {
  @Get('items') items(@Req() req: SessionRequest) {
    return has(req);
  }
  @Post('items') add(@Req() req: SessionRequest) {
    return has(req);
  }
}

@Controller('account')
class AccountController {
  @Get() show(@Req() req: SessionRequest) {
    return has(req);
  }
}

async function sessionsOn(
  adapter: HttpAdapterKind,
  options: Partial<SessionModuleOptions>,
  routes: [method: 'get' | 'post', path: string][],
): Promise<Record<string, boolean>> {
  const app: INestApplication = await bootApp(
    {
      imports: [SessionModule.forRoot({ secret: testSecret(), ...options })],
      controllers: [RootController, ApiController, AccountController],
    },
    adapter,
  );
  try {
    const out: Record<string, boolean> = {};
    for (const [method, path] of routes) {
      const res = await request(app.getHttpServer())[method](path);
      expect(res.status).toBeLessThan(300);
      out[`${method.toUpperCase()} ${path}`] = res.body.hasSession;
    }
    return out;
  } finally {
    await app.close();
  }
}

const ALL: [method: 'get' | 'post', path: string][] = [
  ['get', '/'],
  ['get', '/health'],
  ['get', '/assets/app.js'],
  ['get', '/other'],
  ['get', '/api/items'],
  ['post', '/api/items'],
  ['get', '/account'],
];

describe.each(HTTP_ADAPTERS)('which routes get a session on %s', (adapter) => {
  it('every route by default, `/` included', async () => {
    expect(await sessionsOn(adapter, {}, ALL)).toEqual({
      'GET /': true,
      'GET /health': true,
      'GET /assets/app.js': true,
      'GET /other': true,
      'GET /api/items': true,
      'POST /api/items': true,
      'GET /account': true,
    });
  });

  it('every route but the excluded ones (`exclude`: paths, wildcards, method-specific)', async () => {
    const exclude = ['health', 'assets/{*path}', { path: 'api/items', method: RequestMethod.GET }];
    expect(await sessionsOn(adapter, { exclude }, ALL)).toEqual({
      'GET /': true,
      'GET /health': false,
      'GET /assets/app.js': false,
      'GET /other': true,
      'GET /api/items': false,
      'POST /api/items': true,
      'GET /account': true,
    });
  });

  it('only the selected routes (`forRoutes`: a path pattern and a controller)', async () => {
    expect(
      await sessionsOn(adapter, { forRoutes: ['api/{*rest}', AccountController] }, ALL),
    ).toEqual({
      'GET /': false,
      'GET /health': false,
      'GET /assets/app.js': false,
      'GET /other': false,
      'GET /api/items': true,
      'POST /api/items': true,
      'GET /account': true,
    });
  });

  it('`forRoutes` and `exclude` together', async () => {
    const options = {
      forRoutes: [{ path: 'api/{*rest}', method: RequestMethod.ALL }],
      exclude: [{ path: 'api/items', method: RequestMethod.POST }],
    };
    expect(await sessionsOn(adapter, options, ALL)).toEqual({
      'GET /': false,
      'GET /health': false,
      'GET /assets/app.js': false,
      'GET /other': false,
      'GET /api/items': true,
      'POST /api/items': false,
      'GET /account': false,
    });
  });
});
