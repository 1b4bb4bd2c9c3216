/**
 * Session options end to end through the Nest module, on both HTTP adapters: `regenerate({ keep
 * })`, `absoluteTimeout`, `clearCookieOnDestroy`, and `strictWrites: false` (express-session's
 * order: the answer stands when the store fails afterwards).
 */
import 'reflect-metadata';
import { Controller, type INestApplication, Post } from '@nestjs/common';
import request from 'supertest';
import {
  MemoryStore,
  type RequestSession,
  Session,
  SessionModule,
  type SessionModuleOptions,
  SessionStore,
  SessionStoreUnavailableException,
} from '../../lib';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { SecurityController } from '../support/security-controllers';
import { bootApp } from './fixtures/app';
import { cookiePair, expiryOf, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { testSecret } from './fixtures/secret';

type Bag = Record<string, unknown>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sign-in on a new id; `GET /count` and `POST /logout` come from SecurityController. */
@Controller()
class SignInController {
  @Post('cart')
  cart(@Session() session: RequestSession) {
    (session as unknown as Bag).cart = ['tea'];
    (session as unknown as Bag).secretStep = 'before sign-in';
    return { ok: true };
  }

  /** Signs in on a new id, carrying the cart over (and nothing else). */
  @Post('sign-in')
  async signIn(@Session() session: RequestSession) {
    await session.regenerate({ keep: ['cart'] });
    const current = session.req.session as unknown as Bag;
    current.userId = 'ann';
    return { cart: current.cart ?? null, secretStep: current.secretStep ?? null };
  }
}

describe.each(HTTP_ADAPTERS)('session options through the module on %s', (adapter) => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });
  async function boot(options: Partial<SessionModuleOptions> = {}): Promise<INestApplication> {
    const app = await bootApp(
      {
        imports: [SessionModule.forRoot({ secret: testSecret(), ...options })],
        controllers: [SignInController, SecurityController],
      },
      adapter,
    );
    apps.push(app);
    return app;
  }

  it('regenerate({ keep }): a new id with the kept keys only; the old id is gone', async () => {
    const app = await boot();
    const agent = request.agent(app.getHttpServer());
    const before = sessionIdOf(cookiePair(await agent.post('/cart').expect(201), 'sid'));
    const signIn = await agent.post('/sign-in').expect(201, { cart: ['tea'], secretStep: null });
    const after = sessionIdOf(cookiePair(signIn, 'sid'));
    expect(after).not.toBe(before);
    const store = app.get(SessionStore);
    expect(await store.get(before)).toBeFalsy();
    expect(await store.get(after)).toMatchObject({ cart: ['tea'], userId: 'ann' });
  });

  it('absoluteTimeout: a session older than the limit is replaced, however active', async () => {
    const app = await boot({ absoluteTimeout: 400 });
    const agent = request.agent(app.getHttpServer());
    const first = sessionIdOf(cookiePair(await agent.get('/count').expect(200), 'sid'));
    await agent.get('/count').expect(200, { visits: 2 });
    await sleep(450);
    const late = await agent.get('/count').expect(200, { visits: 1 });
    expect(sessionIdOf(cookiePair(late, 'sid'))).not.toBe(first);
  });

  it('clearCookieOnDestroy: false leaves the cookie alone on destroy (default: cleared)', async () => {
    for (const [options, cleared] of [
      [{}, true],
      [{ clearCookieOnDestroy: false }, false],
    ] as const) {
      const app = await boot(options);
      const agent = request.agent(app.getHttpServer());
      await agent.get('/count').expect(200);
      const out = await agent.post('/logout').expect(200);
      const line = setCookieFor(out, 'sid');
      if (cleared) expect(expiryOf(line ?? '')).toBeLessThan(Date.now());
      else expect(line).toBeUndefined();
    }
  });

  it('strictWrites: false: saved before the next request; a failed write is reported, the answer stands', async () => {
    const store = new MemoryStore({ pruneInterval: 0 });
    const reported: unknown[] = [];
    const app = await boot({ store, strictWrites: false, onError: (err) => reported.push(err) });
    const agent = request.agent(app.getHttpServer());
    await agent.get('/count').expect(200, { visits: 1 });
    await agent.get('/count').expect(200, { visits: 2 });
    (store as unknown as { set: () => Promise<never> }).set = () =>
      Promise.reject(new Error('store down'));
    const res = await request(app.getHttpServer()).get('/count');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ visits: 1 });
    // The module maps store errors (mapStoreError): the cause is the store's.
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeInstanceOf(SessionStoreUnavailableException);
    expect(((reported[0] as Error).cause as Error).message).toBe('store down');
    store.close();
  });
});
