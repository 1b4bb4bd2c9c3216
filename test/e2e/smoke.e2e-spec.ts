import 'reflect-metadata';
import { Controller, Get, INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';
import request from 'supertest';
import {
  type RequestSession,
  RequireSession,
  Session,
  SessionModule,
  SessionStore,
} from '../../lib';

declare module '../../lib' {
  interface SessionData {
    userId: string;
    visits: number;
  }
}

@Controller()
class C {
  constructor(private readonly store: SessionStore) {}
  @Post('login') login(@Session() s: RequestSession) {
    s.userId = 'u1';
    return { ok: true };
  }
  @Get('count') count(@Session() s: RequestSession) {
    s.visits = (s.visits ?? 0) + 1;
    return { visits: s.visits };
  }
  @Get('me') @RequireSession('userId') me(@Session('userId') id: string | undefined) {
    return { id };
  }
  @Get('n') async n() {
    return { n: await this.store.length!() };
  }
}

@Module({ imports: [SessionModule.forRoot({ secret: 'x'.repeat(32) })], controllers: [C] })
class AppModule {}

describe.each(HTTP_ADAPTERS)('smoke on %s', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    const m = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = await initApp(createAppOn(m, adapter));
  });
  afterAll(() => app.close());
  it('works', async () => {
    const agent = request.agent(app.getHttpServer());
    const r0 = await agent.get('/me');
    expect(r0.status).toBe(401);
    const r1 = await agent.post('/login');
    expect(r1.status).toBe(201);
    expect(r1.headers['set-cookie']?.[0]).toMatch(/^sid=s%3A.+; Path=\/; HttpOnly; SameSite=Lax$/);
    const r2 = await agent.get('/me');
    expect(r2.body).toEqual({ id: 'u1' });
    await agent.get('/count');
    const r3 = await agent.get('/count');
    expect(r3.body).toEqual({ visits: 2 });
    const r4 = await request(app.getHttpServer()).get('/n');
    expect(r4.body).toEqual({ n: 1 });
  });
});
