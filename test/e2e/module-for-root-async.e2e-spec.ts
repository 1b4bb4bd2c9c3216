import 'reflect-metadata';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import request from 'supertest';
import { MemoryStore, SessionModule, SessionStore } from '../../lib';
import { bootApp } from './fixtures/app';
import {
  FakeConfigModule,
  FakeConfigService,
  SessionConfigFactory,
  SessionConfigModule,
} from './fixtures/config';
import { cookiePair, expiryOf, setCookieFor } from './fixtures/cookies';
import { ProbeController } from './fixtures/probe.controller';
import { HTTP_ADAPTERS } from '../support/http-adapters';

const variants: [string, () => ModuleMetadata][] = [
  [
    'useFactory with imports and inject',
    () => ({
      imports: [
        SessionModule.forRootAsync({
          imports: [FakeConfigModule],
          inject: [FakeConfigService],
          useFactory: async (config: FakeConfigService) => ({
            secret: config.getOrThrow('SESSION_SECRET'),
            name: config.getOrThrow('SESSION_NAME'),
            cookie: { maxAge: 60_000 },
          }),
        }),
      ],
    }),
  ],
  [
    'useClass',
    () => ({
      imports: [
        SessionModule.forRootAsync({ imports: [FakeConfigModule], useClass: SessionConfigFactory }),
      ],
    }),
  ],
  [
    'useExisting',
    () => ({
      imports: [
        SessionConfigModule,
        SessionModule.forRootAsync({
          imports: [SessionConfigModule],
          useExisting: SessionConfigFactory,
        }),
      ],
    }),
  ],
];

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(variants)('SessionModule.forRootAsync (%s)', (_name, metadata) => {
    let app: INestApplication;

    beforeAll(async () => {
      const m = metadata();
      app = await bootApp({ ...m, controllers: [ProbeController] }, adapter);
    });
    afterAll(() => app.close());

    it('runs with the options the provider built (cookie name and maxAge from the config)', async () => {
      const agent = request.agent(app.getHttpServer());
      const res = await agent.post('/login').send({ userId: 'cfg-user' });
      const line = setCookieFor(res, 'cfg.sid') ?? '';
      expect(line).toMatch(/^cfg\.sid=s%3A/);
      expect(line).toMatch(/; HttpOnly; SameSite=Lax$/);
      expect(expiryOf(line)).toBeGreaterThan(Date.now() + 50_000);
      expect(cookiePair(res, 'cfg.sid')).toBeTruthy();
      expect((await agent.get('/whoami')).body).toMatchObject({ userId: 'cfg-user' });
    });

    it('injects the default store as SessionStore', async () => {
      expect(app.get(SessionStore)).toBeInstanceOf(MemoryStore);
    });
  });

  describe('SessionModule.forRootAsync (useExisting)', () => {
    it('uses the exported instance, asking it for the options once', async () => {
      const app = await bootApp(
        {
          imports: [
            SessionConfigModule,
            SessionModule.forRootAsync({
              imports: [SessionConfigModule],
              useExisting: SessionConfigFactory,
            }),
          ],
          controllers: [ProbeController],
        },
        adapter,
      );
      try {
        await request(app.getHttpServer()).post('/login');
        await request(app.getHttpServer()).post('/login');
        expect(app.get(SessionConfigFactory).calls).toBe(1);
      } finally {
        await app.close();
      }
    });
  });
});
