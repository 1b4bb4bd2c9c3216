import 'reflect-metadata';
import { Controller, Delete, type INestApplication, Param } from '@nestjs/common';
import request from 'supertest';
import { CallbackStoreAdapter, SessionModule, SessionStore } from '../../lib';
import { bootApp } from './fixtures/app';
import { LegacyCallbackStore } from './fixtures/callback-store';
import { cookiePair, sessionIdOf } from './fixtures/cookies';
import { DatabaseModule, DatabaseSessionStore, FakeDatabase } from './fixtures/fake-database';
import { ProbeController } from './fixtures/probe.controller';
import { testSecret } from './fixtures/secret';
import { HTTP_ADAPTERS } from '../support/http-adapters';

/** An admin route revoking a session through the injected store. */
@Controller('admin/sessions')
class RevokeController {
  constructor(private readonly store: SessionStore) {}

  @Delete(':id')
  async revoke(@Param('id') id: string) {
    await this.store.destroy(id);
    return { revoked: id };
  }
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe('an @Injectable() store with its own dependency (forRootAsync imports + inject)', () => {
    let app: INestApplication;
    let closed = false;
    const secret = testSecret();

    beforeAll(async () => {
      app = await bootApp(
        {
          imports: [
            SessionModule.forRootAsync({
              imports: [DatabaseModule],
              inject: [DatabaseSessionStore],
              useFactory: (store: DatabaseSessionStore) => ({ secret, store }),
            }),
          ],
          controllers: [ProbeController, RevokeController],
        },
        adapter,
      );
    });
    afterAll(async () => {
      if (!closed) await app.close();
    });

    it('is the store the module runs on, and the one SessionStore injects', async () => {
      const store = app.get(DatabaseSessionStore);
      expect(app.get(SessionStore)).toBe(store);
      const db = app.get(FakeDatabase);

      const agent = request.agent(app.getHttpServer());
      const res = await agent.post('/login').send({ userId: 'db-user' });
      const id = sessionIdOf(cookiePair(res, 'sid'));
      expect(JSON.parse(db.sessions.get(id)?.data ?? '{}')).toMatchObject({ userId: 'db-user' });
      expect(db.queries).toContain('UPSERT session');

      expect((await agent.get('/whoami')).body).toMatchObject({ userId: 'db-user', sessionId: id });
      expect(db.queries).toContain('SELECT session');
      expect(await app.get(SessionStore).ids!()).toContain(id);
    });

    it('lets a controller revoke a session through the injected SessionStore', async () => {
      const agent = request.agent(app.getHttpServer());
      const id = sessionIdOf(cookiePair(await agent.post('/login'), 'sid'));
      expect((await agent.get('/whoami')).body.userId).toBe('u-1');
      await request(app.getHttpServer()).delete(`/admin/sessions/${id}`).expect(200);
      expect(app.get(FakeDatabase).sessions.has(id)).toBe(false);
      expect((await agent.get('/whoami')).body.userId).toBeNull();
    });

    it('is not closed by app.close() (the app owns it, not the module)', async () => {
      const store = app.get(DatabaseSessionStore);
      await app.close();
      closed = true;
      expect(store.closed).toBe(false);
    });
  });

  describe('a callback-style express-session store given as `store`', () => {
    let app: INestApplication;
    const legacy = new LegacyCallbackStore();

    beforeAll(async () => {
      app = await bootApp(
        {
          imports: [SessionModule.forRoot({ secret: testSecret(), store: legacy })],
          controllers: [ProbeController],
        },
        adapter,
      );
    });
    afterAll(() => app.close());

    it('serves sessions through the callbacks', async () => {
      const agent = request.agent(app.getHttpServer());
      const id = sessionIdOf(cookiePair(await agent.post('/login').send({ userId: 'cb' }), 'sid'));
      expect(JSON.parse(legacy.data.get(id) ?? '{}')).toMatchObject({ userId: 'cb' });
      expect((await agent.get('/whoami')).body).toMatchObject({ userId: 'cb', sessionId: id });
      expect(legacy.calls).toEqual(expect.arrayContaining(['set', 'get']));
    });

    it('is injected as SessionStore through a CallbackStoreAdapter with promises', async () => {
      const adapter = app.get(SessionStore);
      expect(adapter).toBeInstanceOf(CallbackStoreAdapter);
      expect((adapter as CallbackStoreAdapter).store).toBe(legacy);

      const agent = request.agent(app.getHttpServer());
      const id = sessionIdOf(cookiePair(await agent.post('/login').send({ userId: 'cb2' }), 'sid'));
      expect(await adapter.ids!()).toContain(id);
      expect(await adapter.length!()).toBe(legacy.data.size);
      expect(await adapter.get(id)).toMatchObject({ userId: 'cb2' });
      await adapter.destroy(id);
      expect(legacy.data.has(id)).toBe(false);
      expect((await agent.get('/whoami')).body.userId).toBeNull();
    });
  });
});
