import 'reflect-metadata';
import { Controller, Get, type INestApplication, Injectable, Module } from '@nestjs/common';
import request from 'supertest';
import { MemoryStore, SessionModule, SessionStore } from '../../lib';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { bootApp } from './fixtures/app';
import { cookiePair, expiryOf, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { ProbeController } from './fixtures/probe.controller';
import { testSecret } from './fixtures/secret';

/** A service of another module that injects the store (the module is global by default). */
@Injectable()
class SessionsService {
  constructor(readonly store: SessionStore) {}
}

@Controller('sessions')
class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get('count')
  async count() {
    return { count: (await this.sessions.store.ids?.())?.length ?? -1 };
  }
}

@Module({ controllers: [SessionsController], providers: [SessionsService] })
class SessionsFeatureModule {}

describe.each(HTTP_ADAPTERS)('SessionModule.forRoot on %s', (adapter) => {
  describe('with only a secret', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await bootApp(
        {
          imports: [SessionModule.forRoot({ secret: testSecret() }), SessionsFeatureModule],
          controllers: [ProbeController],
        },
        adapter,
      );
    });
    afterAll(() => app.close());

    it('sets no cookie for an untouched session (saveUninitialized: false)', async () => {
      const res = await request(app.getHttpServer()).get('/probe');
      expect(res.body).toEqual({ hasSession: true });
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('sends a signed sid cookie with the safe defaults once the session is modified', async () => {
      const res = await request(app.getHttpServer()).post('/login').send({ userId: 'ann' });
      const line = setCookieFor(res, 'sid');
      expect(line).toMatch(/^sid=s%3A[\w-]+\.[\w%]+; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(Number.isNaN(expiryOf(line as string))).toBe(true);
    });

    it('reads the session back with @Session(key), @SessionId() and Nest’s own @Session()', async () => {
      const agent = request.agent(app.getHttpServer());
      const login = await agent.post('/login').send({ userId: 'ann' });
      const id = sessionIdOf(cookiePair(login, 'sid'));
      const res = await agent.get('/whoami');
      expect(res.body).toEqual({ userId: 'ann', sessionId: id, sameObject: true });
      expect((await agent.get('/count')).body).toEqual({ visits: 1 });
      expect((await agent.get('/count')).body).toEqual({ visits: 2 });
    });

    it('injects the default MemoryStore as SessionStore, in other modules too', async () => {
      const store = app.get(SessionStore);
      expect(store).toBeInstanceOf(MemoryStore);
      expect(app.get(SessionsService).store).toBe(store);
      const before = (await store.ids!()).length;
      await request(app.getHttpServer()).post('/login');
      const res = await request(app.getHttpServer()).get('/sessions/count');
      expect(res.body).toEqual({ count: before + 1 });
    });

    it('destroys a session on request: the store forgets it and the cookie is cleared', async () => {
      const agent = request.agent(app.getHttpServer());
      const id = sessionIdOf(cookiePair(await agent.post('/login'), 'sid'));
      expect(await app.get(SessionStore).get(id)).toBeTruthy();
      const out = await agent.post('/logout');
      expect(expiryOf(setCookieFor(out, 'sid') ?? '')).toBeLessThan(Date.now());
      expect(await app.get(SessionStore).get(id)).toBeFalsy();
      expect((await agent.get('/whoami')).body.userId).toBeNull();
    });
  });

  describe('with a custom name, cookie and store instance', () => {
    let app: INestApplication;
    const store = new MemoryStore({ pruneInterval: 0 });

    beforeAll(async () => {
      app = await bootApp(
        {
          imports: [
            SessionModule.forRoot({
              secret: [testSecret(), testSecret()],
              name: 'app.sid',
              cookie: { maxAge: 3_600_000, sameSite: 'strict', path: '/' },
              store,
            }),
          ],
          controllers: [ProbeController],
        },
        adapter,
      );
    });
    afterAll(() => app.close());

    it('uses the given options and the given store', async () => {
      const res = await request(app.getHttpServer()).post('/login').send({ userId: 'bo' });
      const line = setCookieFor(res, 'app.sid') ?? '';
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Strict/);
      expect(expiryOf(line)).toBeGreaterThan(Date.now() + 3_500_000);
      expect(app.get(SessionStore)).toBe(store);
      const id = sessionIdOf(cookiePair(res, 'app.sid'));
      expect(await store.get(id)).toMatchObject({ userId: 'bo' });
    });
  });

  describe('with isGlobal: false', () => {
    it('keeps SessionStore private to the modules importing SessionModule', async () => {
      @Module({ providers: [SessionsService] })
      class NotImporting {}
      await expect(
        bootApp(
          {
            imports: [
              SessionModule.forRoot({ secret: testSecret(), isGlobal: false }),
              NotImporting,
            ],
          },
          adapter,
        ),
      ).rejects.toThrow(/SessionStore/);
    });
  });
});
