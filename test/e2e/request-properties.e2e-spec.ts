/**
 * What the session middleware puts on the request, over real HTTP on both adapters: `req.flash`
 * and `req.sessionStore` are there on every session route (on Express inherited from the
 * application's request object, so no request gets two more own properties: see
 * `lib/nest/express-prototypes.ts`), they are the module's store and flash, a handler can
 * still replace them for its own request, and flash messages work across requests.
 */
import 'reflect-metadata';
import { Controller, Get, Inject, Module, Req } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { SessionModule, SessionStore, type SessionRequest } from '../../lib';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';
import { cookiePair } from './fixtures/cookies';

const own = (req: object, key: string) => Object.prototype.hasOwnProperty.call(req, key);

@Controller()
class PropsController {
  constructor(@Inject(SessionStore) private readonly store: SessionStore) {}

  @Get('props')
  props(@Req() req: SessionRequest) {
    return {
      flash: typeof req.flash,
      store: req.sessionStore === this.store,
      ownStore: own(req, 'sessionStore'),
      ownFlash: own(req, 'flash'),
    };
  }

  @Get('replace')
  replace(@Req() req: SessionRequest) {
    const mine = () => 'mine';
    (req as { flash: unknown }).flash = mine;
    req.sessionStore = undefined;
    return { flash: req.flash === (mine as unknown), store: req.sessionStore === undefined };
  }

  @Get('flash/add')
  add(@Req() req: SessionRequest) {
    return { count: req.flash!('info', 'hello') };
  }

  @Get('flash/take')
  take(@Req() req: SessionRequest) {
    return { info: req.flash!('info') };
  }
}

@Module({
  imports: [SessionModule.forRoot({ secret: 'request-properties-secret-0123456789abcdef' })],
  controllers: [PropsController],
})
class AppModule {}

describe.each(HTTP_ADAPTERS)('request properties (%s)', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = await initApp(createAppOn(moduleRef, adapter));
  });
  afterAll(() => app.close());

  it("gives every request the module's store and req.flash", async () => {
    const res = await request(app.getHttpServer()).get('/props').expect(200);
    expect(res.body).toMatchObject({ flash: 'function', store: true });
    if (adapter === 'express') {
      // Inherited from the application's request object: nothing added per request.
      expect(res.body).toMatchObject({ ownStore: false, ownFlash: false });
    }
  });

  it('lets a handler replace both on its own request only', async () => {
    const agent = request(app.getHttpServer());
    const replaced = await agent.get('/replace').expect(200);
    expect(replaced.body).toEqual({ flash: true, store: true });
    const next = await agent.get('/props').expect(200);
    expect(next.body).toMatchObject({ flash: 'function', store: true });
  });

  it('keeps flash messages across requests', async () => {
    const server = app.getHttpServer();
    const added = await request(server).get('/flash/add').expect(200);
    expect(added.body).toEqual({ count: 1 });
    const cookie = cookiePair(added, 'sid');
    const taken = await request(server).get('/flash/take').set('Cookie', cookie).expect(200);
    expect(taken.body).toEqual({ info: ['hello'] });
    const again = await request(server).get('/flash/take').set('Cookie', cookie).expect(200);
    expect(again.body).toEqual({ info: [] });
  });
});
