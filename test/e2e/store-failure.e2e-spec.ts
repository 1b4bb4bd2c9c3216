/**
 * The Nest module's store failure policy, with stores that fail in every way a store can:
 * rejecting, throwing, never answering. Real HTTP against a real Nest application.
 */
import 'reflect-metadata';
import { Controller, Get, INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  HTTP_ADAPTERS,
  type HttpAdapterKind,
  createAppOn,
  initApp,
} from '../support/http-adapters';
import {
  MemoryStore,
  type RequestSession,
  Session,
  SessionModule,
  type SessionModuleOptions,
  type SessionRecord,
} from '../../lib';

const secret = 'a-test-secret-that-is-long-enough-1234';

/** A MemoryStore whose operations can be made to fail on demand. */
class FlakyStore extends MemoryStore {
  mode: 'ok' | 'reject' | 'throw' | 'hang' = 'ok';
  failing = new Set<string>();

  private fault(op: string): Promise<never> | undefined {
    if (!this.failing.has(op) || this.mode === 'ok') return undefined;
    if (this.mode === 'throw') throw new Error(`${op} exploded`);
    if (this.mode === 'hang') return new Promise<never>(() => undefined);
    return Promise.reject(new Error(`${op} refused`));
  }

  override get(sid: string): any {
    return this.fault('get') ?? super.get(sid);
  }
  override set(sid: string, s: SessionRecord): any {
    return this.fault('set') ?? super.set(sid, s);
  }
  override destroy(sid: string): any {
    return this.fault('destroy') ?? super.destroy(sid);
  }
}

@Controller()
class AppController {
  @Post('login') login(@Session() s: RequestSession) {
    (s as any).user = 'alice';
    return { ok: true };
  }
  @Get('me') me(@Session() s: RequestSession | undefined) {
    return { user: (s as any)?.user ?? null };
  }
  @Post('boom') boom(@Session() s: RequestSession) {
    (s as any).user = 'mallory';
    throw new Error('handler failed');
  }
  @Post('logout') async logout(@Session() s: RequestSession) {
    await s.destroy();
    return { ok: true };
  }
}

async function boot(
  adapter: HttpAdapterKind,
  store: FlakyStore,
  extra: Partial<SessionModuleOptions> = {},
) {
  @Module({
    imports: [SessionModule.forRoot({ secret, store, storeTimeout: 300, ...extra })],
    controllers: [AppController],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  return initApp(createAppOn(moduleRef, adapter));
}

describe.each(HTTP_ADAPTERS)('store failure policy (Nest module) on %s', (adapter) => {
  let app: INestApplication;
  let store: FlakyStore;

  beforeEach(() => {
    store = new FlakyStore({ pruneInterval: 0 });
  });
  afterEach(async () => {
    await app?.close();
    store.close();
  });

  it.each(['reject', 'throw', 'hang'] as const)(
    'a store whose get %ss answers 503 with Retry-After, quickly',
    async (mode) => {
      app = await boot(adapter, store);
      const agent = request.agent(app.getHttpServer());
      await agent.post('/login').expect(201);
      store.mode = mode;
      store.failing.add('get');
      const started = Date.now();
      const res = await agent.get('/me').expect(503);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toMatchObject({ statusCode: 503, message: 'Session store unavailable' });
      // recovery without a restart
      store.mode = 'ok';
      await agent.get('/me').expect(200, { user: 'alice' });
    },
  );

  it("onStoreError: 'continue' serves the request without a session", async () => {
    app = await boot(adapter, store, { onStoreError: 'continue' });
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login').expect(201);
    store.mode = 'reject';
    store.failing.add('get');
    await agent.get('/me').expect(200, { user: null });
  });

  it('a failed write answers 503, sets no cookie and keeps the old record', async () => {
    app = await boot(adapter, store);
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login').expect(201);
    store.mode = 'reject';
    store.failing.add('set');
    const fresh = await request(app.getHttpServer()).post('/login').expect(503);
    expect(fresh.headers['set-cookie']).toBeUndefined();
    expect(await store.length()).toBe(1);
  });

  it('a failed destroy (logout) answers 503 and the session stays usable', async () => {
    app = await boot(adapter, store);
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login').expect(201);
    store.mode = 'reject';
    store.failing.add('destroy');
    const failed = await agent.post('/logout').expect(503);
    expect(failed.headers['retry-after']).toBe('1');
    store.mode = 'ok';
    await agent.get('/me').expect(200, { user: 'alice' });
  });

  it('a handler that fails after changing the session persists nothing', async () => {
    app = await boot(adapter, store);
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login').expect(201);
    await agent.post('/boom').expect(500);
    await agent.get('/me').expect(200, { user: 'alice' });
    const anonymous = await request(app.getHttpServer()).post('/boom').expect(500);
    expect(anonymous.headers['set-cookie']).toBeUndefined();
    expect(await store.length()).toBe(1);
  });

  it('logout destroys the record and clears the cookie', async () => {
    app = await boot(adapter, store);
    const agent = request.agent(app.getHttpServer());
    await agent.post('/login').expect(201);
    const res = await agent.post('/logout').expect(201);
    expect(res.headers['set-cookie']?.[0]).toMatch(/^sid=; Path=\/; Expires=Thu, 01 Jan 1970/);
    expect(await store.length()).toBe(0);
  });
});
