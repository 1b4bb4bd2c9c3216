/**
 * What only Fastify has: the session on `FastifyRequest` and on `request.raw` at once, Nest
 * middleware (run by middie on the raw request) and Fastify hooks seeing the same session, every
 * way a Fastify reply goes out (`reply.send`, `reply.redirect`, streams, `@Res()`), strict mode
 * before the headers, `@fastify/cookie` next to ours, an adapter without middie, and a cookie
 * that moves between an Express and a Fastify application. The suites shared by both adapters
 * (test/e2e/*, `describe.each(HTTP_ADAPTERS)`) cover the rest of the contract.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  type INestApplication,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Post,
  Redirect,
  Req,
  Res,
  Session as NestSession,
} from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import request from 'supertest';
import {
  MemoryStore,
  type RequestSession,
  Session,
  SessionModule,
  type SessionModuleOptions,
  type SessionRecord,
  SessionStore,
} from '../../lib';
import { Test } from '@nestjs/testing';
import fastifyCookie from '@fastify/cookie';
import {
  type AdapterSettings,
  type HttpAdapterKind,
  createAppOn,
  initApp,
} from '../support/http-adapters';
import { SecurityController } from '../support/security-controllers';
import { bootApp } from './fixtures/app';
import { cookiePair, sessionIdOf, setCookies } from './fixtures/cookies';
import { testSecret } from './fixtures/secret';

type Bag = Record<string, unknown>;
type RawRequest = IncomingMessage & {
  session?: RequestSession | null;
  sessionID?: string;
  sessionStore?: unknown;
};

/** What the middleware and the hooks saw of the request's session, by request id. */
const seen = new Map<string, Bag>();

/** A Nest middleware registered after SessionModule's: runs on the raw request (middie). */
@Injectable()
class RawSideMiddleware implements NestMiddleware {
  use(req: RawRequest, _res: ServerResponse, next: () => void): void {
    const probe = req.headers['x-probe'];
    if (typeof probe === 'string') {
      seen.set(probe, { middlewareSession: req.session, middlewareId: req.sessionID });
    }
    next();
  }
}

@Controller()
class FastifyController {
  @Post('login')
  login(@Session() session: RequestSession) {
    (session as unknown as Bag).userId = 'ann';
    return { ok: true };
  }

  /** Where the session is: FastifyRequest, request.raw, Nest's @Session(), the middleware. */
  @Get('where')
  where(
    @Req() req: FastifyRequest,
    @Session() ours: RequestSession,
    @NestSession() nests: RequestSession,
  ) {
    (ours as unknown as Bag).visits = 1;
    const raw = req.raw as RawRequest;
    const probe = String(req.headers['x-probe']);
    const early = seen.get(probe) ?? {};
    const fastifyRequest = req as unknown as { session?: unknown; sessionID?: unknown };
    return {
      sameOnBoth: fastifyRequest.session === raw.session,
      sameId: fastifyRequest.sessionID === raw.sessionID,
      decorators: ours === fastifyRequest.session && nests === fastifyRequest.session,
      middlewareSawIt: early.middlewareSession === raw.session,
      middlewareId: early.middlewareId === raw.sessionID,
      hookSawIt: early.hookSession === raw.session,
      store: (req as unknown as { sessionStore?: unknown }).sessionStore === raw.sessionStore,
    };
  }

  /** `request.session = x` on FastifyRequest writes the raw request's. */
  @Post('replace')
  replace(@Req() req: FastifyRequest) {
    const fastifyRequest = req as unknown as { session: RequestSession | null };
    fastifyRequest.session = null; // with unset: 'destroy', the session is destroyed
    return { cleared: (req.raw as RawRequest).session === null };
  }

  @Get('reply-send')
  replySend(@Session() session: RequestSession, @Res() reply: FastifyReply) {
    (session as unknown as Bag).via = 'reply.send';
    void reply.code(201).header('x-by', 'handler').send({ sent: true });
  }

  @Get('redirect')
  redirect(@Session() session: RequestSession, @Res() reply: FastifyReply) {
    (session as unknown as Bag).via = 'redirect';
    void reply.redirect('/count', 303);
  }

  @Get('reply-stream')
  replyStream(@Session() session: RequestSession, @Res() reply: FastifyReply) {
    (session as unknown as Bag).via = 'reply-stream';
    void reply.type('text/plain').send(Readable.from(['a;', 'b;', 'c']));
  }

  /** Nest's @Redirect(): its handler resolves before the reply is written (Fastify sends again). */
  @Post('go')
  @Redirect('/count', 303)
  async go(@Session() session: RequestSession) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    (session as unknown as Bag).via = 'go';
  }

  @Get('own-cookie')
  ownCookie(@Session() session: RequestSession, @Res({ passthrough: true }) reply: FastifyReply) {
    (session as unknown as Bag).via = 'own-cookie';
    (reply as unknown as { setCookie(n: string, v: string): void }).setCookie('theme', 'dark');
    return { theme: (reply.request as unknown as { cookies: Bag }).cookies.theme ?? null };
  }
}

/** An app on Fastify with the probes (middleware through the consumer, a hook on the instance). */
async function bootProbes(
  options: Partial<SessionModuleOptions> = {},
  settings: AdapterSettings = {},
  extra: (instance: FastifyInstance) => Promise<void> = async () => undefined,
): Promise<INestApplication> {
  const skipMiddie = (settings.fastify as { skipMiddie?: boolean } | undefined)?.skipMiddie;
  @Module({ controllers: [FastifyController, SecurityController], providers: [RawSideMiddleware] })
  class ProbeModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      if (!skipMiddie) consumer.apply(RawSideMiddleware).forRoutes('{*all}');
    }
  }
  const metadata = {
    imports: [SessionModule.forRoot({ secret: testSecret(), ...options }), ProbeModule],
  };
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = createAppOn(moduleRef, 'fastify', settings);
  const instance = app.getHttpAdapter().getInstance() as FastifyInstance;
  await extra(instance);
  // A hook of the app's own, added before `init()` (so before middie and ours).
  instance.addHook('preHandler', (req, _reply, done) => {
    const probe = req.headers['x-probe'];
    if (typeof probe === 'string') {
      const entry = seen.get(probe) ?? {};
      entry.hookSession = (req as unknown as { session?: unknown }).session;
      seen.set(probe, entry);
    }
    done();
  });
  return initApp(app);
}

/** Our cookie's lines in a response (exactly one expected when the session is sent). */
function ours(res: request.Response): string[] {
  return setCookies(res).filter((line) => line.startsWith('sid='));
}

describe('nest-session on Fastify', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await bootProbes({ unset: 'destroy' }, {}, async (instance) => {
      // An application that registers @fastify/cookie for its own cookies.
      await instance.register(fastifyCookie);
    });
  });
  afterAll(() => app.close());

  it('one session per request: FastifyRequest, request.raw, both @Session(), middleware and hooks', async () => {
    const res = await request(app.getHttpServer()).get('/where').set('x-probe', 'p1').expect(200);
    expect(res.body).toEqual({
      sameOnBoth: true,
      sameId: true,
      decorators: true,
      middlewareSawIt: true,
      middlewareId: true,
      hookSawIt: true,
      store: true,
    });
    expect(ours(res)).toHaveLength(1);
  });

  it.each([
    ['reply.send with a status and headers', '/reply-send', 201],
    ['reply.redirect', '/redirect', 303],
    ['a stream through reply.send', '/reply-stream', 200],
  ])('%s: the cookie once, the session stored before the answer', async (_name, path, status) => {
    const store = app.get(SessionStore);
    const res = await request(app.getHttpServer()).get(path).redirects(0);
    expect(res.status).toBe(status);
    expect(ours(res)).toHaveLength(1);
    const id = sessionIdOf(cookiePair(res, 'sid'));
    expect(await store.get(id)).toMatchObject({
      via: path.slice(1) === 'reply-send' ? 'reply.send' : path.slice(1),
    });
    if (path === '/reply-stream') expect(res.text).toBe('a;b;c');
    if (path === '/reply-send') expect(res.headers['x-by']).toBe('handler');
  });

  it('@fastify/cookie registered by the app: its cookies and ours side by side', async () => {
    const res = await request(app.getHttpServer())
      .get('/own-cookie')
      .set('Cookie', 'theme=light')
      .expect(200, { theme: 'light' });
    expect(setCookies(res).filter((l) => l.startsWith('theme=dark'))).toHaveLength(1);
    expect(ours(res)).toHaveLength(1);
  });

  it('request.session = null on FastifyRequest is the raw request’s (unset: destroy)', async () => {
    const agent = request.agent(app.getHttpServer());
    const login = await agent.post('/login').expect(201);
    const id = sessionIdOf(cookiePair(login, 'sid'));
    expect(await app.get(SessionStore).get(id)).toBeTruthy();
    await agent.post('/replace').expect(201, { cleared: true });
    expect(await app.get(SessionStore).get(id)).toBeFalsy();
  });
});

describe('a store that answers late', () => {
  /** A MemoryStore whose writes take 50 ms (a remote store). */
  class SlowStore extends MemoryStore {
    override set(sid: string, session: SessionRecord): any {
      return new Promise((resolve) => setTimeout(resolve, 50)).then(() => super.set(sid, session));
    }
  }

  it('@Redirect() (sent again by Fastify while the store works): written once, session stored', async () => {
    const store = new SlowStore({ pruneInterval: 0 });
    const app = await bootProbes({ store });
    const errors: unknown[] = [];
    const onError = (err: unknown) => errors.push(err);
    process.on('uncaughtException', onError);
    try {
      const res = await request(app.getHttpServer()).post('/go').redirects(0).expect(303);
      expect(res.headers.location).toBe('/count');
      expect(ours(res)).toHaveLength(1);
      expect(await store.get(sessionIdOf(cookiePair(res, 'sid')))).toMatchObject({ via: 'go' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(errors).toEqual([]);
    } finally {
      process.off('uncaughtException', onError);
      await app.close();
      store.close();
    }
  });
});

describe('strict writes on Fastify: the store fails before the headers', () => {
  it.each(['/reply-send', '/redirect', '/reply-stream', '/count'])(
    '%s answers 503 with Retry-After and no session cookie',
    async (path) => {
      const store = new MemoryStore({ pruneInterval: 0 });
      (store as unknown as { set: () => Promise<never> }).set = () =>
        Promise.reject(new Error('store down'));
      const app = await bootProbes({ store, onError: () => undefined });
      try {
        const res = await request(app.getHttpServer()).get(path).redirects(0);
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.body).toMatchObject({ statusCode: 503, message: 'Session store unavailable' });
        expect(ours(res)).toHaveLength(0);
      } finally {
        await app.close();
        store.close();
      }
    },
  );
});

describe('FastifyAdapter without middie (skipMiddie)', () => {
  it('loads the session in an onRequest hook instead: same sessions, same cookie', async () => {
    const app = await bootProbes({}, { fastify: { skipMiddie: true } });
    try {
      const agent = request.agent(app.getHttpServer());
      await agent.get('/count').expect(200, { visits: 1 });
      await agent.get('/count').expect(200, { visits: 2 });
      const res = await agent.get('/where').set('x-probe', 'p2').expect(200);
      expect(res.body).toMatchObject({ sameOnBoth: true, decorators: true, hookSawIt: true });
    } finally {
      await app.close();
    }
  });

  it('refuses forRoutes/exclude, which need Nest middleware', async () => {
    await expect(
      bootProbes({ exclude: ['health'] }, { fastify: { skipMiddie: true } }),
    ).rejects.toThrow(/forRoutes\/exclude need Nest middleware/);
  });
});

describe('moving between adapters', () => {
  it('a cookie issued on Express keeps its session on Fastify (same secret, same store)', async () => {
    const secret = testSecret();
    const store = new MemoryStore({ pruneInterval: 0 });
    const boot = (adapter: HttpAdapterKind) =>
      bootApp(
        {
          imports: [SessionModule.forRoot({ secret, store })],
          controllers: [SecurityController],
        },
        adapter,
      );
    const express = await boot('express');
    const fastify = await boot('fastify');
    try {
      const first = await request(express.getHttpServer()).get('/count').expect(200);
      const pair = cookiePair(first, 'sid');
      await request(fastify.getHttpServer())
        .get('/count')
        .set('Cookie', pair)
        .expect(200, { visits: 2 });
      await request(express.getHttpServer())
        .get('/count')
        .set('Cookie', pair)
        .expect(200, { visits: 3 });
    } finally {
      await express.close();
      await fastify.close();
      store.close();
    }
  });
});
