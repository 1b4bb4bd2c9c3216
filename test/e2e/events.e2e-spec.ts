/**
 * Session lifecycle events: typed hooks in the options, and the same events emitted through
 * @nestjs/event-emitter when the application uses it.
 */
import 'reflect-metadata';
import { Controller, Get, INestApplication, Injectable, Module, Post } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  MemoryStore,
  type RequestSession,
  Session,
  SessionModule,
  type SessionEventMap,
} from '../../lib';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';

const secret = 'an-events-test-secret-long-enough-12345';

@Controller()
class AppController {
  @Post('login') async login(@Session() s: RequestSession) {
    await s.regenerate();
    const current = s.req.session as RequestSession & { user?: string };
    current.user = 'alice';
    return { ok: true };
  }
  @Get('me') me(@Session() s: RequestSession & { user?: string }) {
    return { user: s.user ?? null };
  }
  @Post('logout') async logout(@Session() s: RequestSession) {
    await s.destroy();
    return { ok: true };
  }
}

@Injectable()
class Audit {
  readonly seen: string[] = [];
  @OnEvent('session.created') created() {
    this.seen.push('created');
  }
  @OnEvent('session.destroyed') destroyed() {
    this.seen.push('destroyed');
  }
  @OnEvent('session.store-error') storeError() {
    this.seen.push('store-error');
  }
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe('session lifecycle events', () => {
    let app: INestApplication;
    const hooked: string[] = [];
    const store = new MemoryStore({ pruneInterval: 0 });

    beforeAll(async () => {
      const record =
        (name: keyof SessionEventMap) => (event: SessionEventMap[keyof SessionEventMap]) => {
          hooked.push(`${name}:${'sessionId' in event ? typeof event.sessionId : ''}`);
        };
      @Module({
        imports: [
          EventEmitterModule.forRoot(),
          SessionModule.forRoot({
            secret,
            store,
            touchAfter: 0,
            events: {
              created: record('created'),
              loaded: record('loaded'),
              saved: record('saved'),
              regenerated: record('regenerated'),
              destroyed: record('destroyed'),
              storeError: record('storeError'),
            },
          }),
        ],
        controllers: [AppController],
        providers: [Audit],
      })
      class AppModule {}
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      app = await initApp(createAppOn(moduleRef, adapter));
    });
    afterAll(async () => {
      await app.close();
      store.close();
    });

    it('reports each step of a session, through hooks and EventEmitter2', async () => {
      const agent = request.agent(app.getHttpServer());
      await agent.post('/login').expect(201);
      expect(hooked).toEqual(['regenerated:string', 'created:string', 'saved:string']);
      hooked.length = 0;
      await agent.get('/me').expect(200, { user: 'alice' });
      expect(hooked).toEqual(['loaded:string']);
      hooked.length = 0;
      await agent.post('/logout').expect(201);
      expect(hooked).toEqual(['loaded:string', 'destroyed:string']);
      const audit = app.get(Audit);
      expect(audit.seen).toEqual(['created', 'destroyed']);
    });

    it('reports store errors', async () => {
      const agent = request.agent(app.getHttpServer());
      await agent.post('/login').expect(201);
      hooked.length = 0;
      const original = store.get.bind(store);
      (store as any).get = () => Promise.reject(new Error('down'));
      try {
        await agent.get('/me').expect(503);
      } finally {
        (store as any).get = original;
      }
      expect(hooked).toContain('storeError:string');
      expect(app.get(Audit).seen).toContain('store-error');
    });
  });
});
