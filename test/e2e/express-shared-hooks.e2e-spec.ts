/**
 * The module's direct install on Express puts `req.session`/`req.sessionID` (accessors) and the
 * `writeHead`/`end` commit hooks on the application's request and response prototypes instead of
 * on each request and response (see `lib/nest/express-prototypes.ts`). Real HTTP against a real
 * Nest application on Express: nothing is added per request, sessions behave as before, a
 * `res.end` wrapped by a middleware before the session still runs after the session's strict
 * write (the session's own wrappers go on top, as they always did), one wrapped after it runs
 * before the commit, and `req.session = null` unsets the session.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Req, Res } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { MemoryStore, SessionModule, type SessionRequest } from '../../lib';
import { cookiePair, sessionIdOf } from './fixtures/cookies';
import nestSessionExpress = require('../../lib/express');

const own = (target: object, key: string) => Object.prototype.hasOwnProperty.call(target, key);
const store = new MemoryStore();
/** What the wrapper installed before the session saw when its `end` ran. */
const seenByEarlyWrapper: { stored: boolean | undefined }[] = [];
/** What a wrapper installed by the handler (after the session) saw when its `end` ran. */
const seenByLateWrapper: { stored: boolean | undefined }[] = [];

type Counted = SessionRequest & { session?: { n?: number } | null };

@Controller()
class HooksController {
  @Get('own')
  ownProps(@Req() req: SessionRequest, @Res({ passthrough: true }) res: Response) {
    return {
      session: own(req, 'session'),
      sessionID: own(req, 'sessionID'),
      writeHead: own(res, 'writeHead'),
      end: own(res, 'end'),
      has: req.session !== undefined,
    };
  }

  @Get('count')
  count(@Req() req: Counted) {
    const session = req.session!;
    session.n = (session.n ?? 0) + 1;
    return { n: session.n, id: req.sessionID };
  }

  @Get('peek')
  peek(@Req() req: Counted) {
    return { n: req.session?.n ?? null, id: req.sessionID ?? null };
  }

  @Get('unset')
  unset(@Req() req: Counted) {
    req.session = null;
    return { session: req.session, ownAfter: own(req, 'session') };
  }

  @Get('delete')
  remove(@Req() req: Counted) {
    delete req.session;
    return { stillThere: req.session !== undefined };
  }

  @Get('wrapped-early')
  wrappedEarly(@Req() req: Counted) {
    req.session!.n = 41;
    return { id: req.sessionID };
  }

  @Get('wrapped-late')
  wrappedLate(@Req() req: Counted, @Res() res: Response) {
    req.session!.n = 7;
    const end = res.end;
    const id = req.sessionID!;
    res.end = function (this: Response, ...args: unknown[]) {
      store.get(id, (_err, stored) => {
        seenByLateWrapper.push({ stored: stored?.n === 7 });
        (end as (...a: unknown[]) => Response).apply(this, args);
      });
      return this;
    } as Response['end'];
    res.json({ ownEnd: own(res, 'end'), id: req.sessionID });
  }
}

@Module({
  imports: [
    SessionModule.forRoot({
      secret: 'shared-hooks-secret-0123456789abcdef',
      store,
      unset: 'destroy',
    }),
  ],
  controllers: [HooksController],
})
class AppModule {}

function idOf(cookie: string): string {
  return decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0]!;
}

describe('shared request and response hooks on Express', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    // A middleware before the session that wraps `res.end`, as compression does.
    app.use('/wrapped-early', (req: Request, res: Response, next: NextFunction) => {
      const end = res.end;
      res.end = function (this: Response, ...args: unknown[]) {
        const id = (req as unknown as SessionRequest).sessionID;
        store.get(id!, (_err, stored) => {
          seenByEarlyWrapper.push({ stored: stored?.n === 41 });
          (end as (...a: unknown[]) => Response).apply(this, args);
        });
        return this;
      } as Response['end'];
      next();
    });
    await app.init();
  });
  afterAll(() => app.close());

  it('adds neither the session properties nor the commit hooks to a request or response', async () => {
    const none = await request(app.getHttpServer()).get('/own').expect(200);
    expect(none.body).toEqual({
      session: false,
      sessionID: false,
      writeHead: false,
      end: false,
      has: true,
    });
    const count = await request(app.getHttpServer()).get('/count').expect(200);
    const cookie = cookiePair(count, 'sid');
    const loaded = await request(app.getHttpServer()).get('/own').set('Cookie', cookie);
    expect(loaded.body).toEqual({
      session: false,
      sessionID: false,
      writeHead: false,
      end: false,
      has: true,
    });
  });

  it('creates, saves and reads sessions through the inherited accessors', async () => {
    const server = app.getHttpServer();
    const first = await request(server).get('/count').expect(200);
    const cookie = cookiePair(first, 'sid');
    expect(first.body).toEqual({ n: 1, id: idOf(cookie) });
    const second = await request(server).get('/count').set('Cookie', cookie).expect(200);
    expect(second.body).toEqual({ n: 2, id: idOf(cookie) });
    const peek = await request(server).get('/peek').set('Cookie', cookie).expect(200);
    expect(peek.body).toEqual({ n: 2, id: idOf(cookie) });
    // A request without a cookie reads no session and creates none.
    const fresh = await request(server).get('/peek').expect(200);
    expect(fresh.headers['set-cookie']).toBeUndefined();
  });

  it('unsets the session with req.session = null (unset: destroy removes it from the store)', async () => {
    const server = app.getHttpServer();
    const first = await request(server).get('/count').expect(200);
    const cookie = cookiePair(first, 'sid');
    const unset = await request(server).get('/unset').set('Cookie', cookie).expect(200);
    expect(unset.body).toEqual({ session: null, ownAfter: false });
    const stored = await new Promise((resolve) => store.get(idOf(cookie), (_e, s) => resolve(s)));
    expect(stored).toBeFalsy();
  });

  it('leaves the session in place on delete req.session (the documented difference)', async () => {
    const server = app.getHttpServer();
    const first = await request(server).get('/count').expect(200);
    const cookie = cookiePair(first, 'sid');
    const deleted = await request(server).get('/delete').set('Cookie', cookie).expect(200);
    expect(deleted.body).toEqual({ stillThere: true });
  });

  it('runs a res.end wrapped before the session after the strict write, as own wrappers did', async () => {
    seenByEarlyWrapper.length = 0;
    const res = await request(app.getHttpServer()).get('/wrapped-early').expect(200);
    expect(res.headers['set-cookie']).toBeDefined();
    expect(seenByEarlyWrapper).toEqual([{ stored: true }]);
  });

  it('commits a response whose end a handler wrapped after the session, after that wrapper', async () => {
    seenByLateWrapper.length = 0;
    const server = app.getHttpServer();
    const res = await request(server).get('/wrapped-late').expect(200);
    expect(res.body.ownEnd).toBe(true);
    expect(seenByLateWrapper).toEqual([{ stored: false }]);
    const cookie = cookiePair(res, 'sid');
    const peek = await request(server).get('/peek').set('Cookie', cookie).expect(200);
    expect(peek.body).toEqual({ n: 7, id: idOf(cookie) });
  });
});

/**
 * Two session middlewares on one request: the `nest-session/express` drop-in mounted before the
 * module's install, each with its own cookie and store. As with two express-session
 * middlewares, the second one leaves a request that already has a session alone; when a
 * middleware between them took the session off the request, the second loads its own, and then
 * both commits must still run: the first one's, kept for the application's shared response
 * hooks, stays reachable after the second takes the request's state (and wraps the response
 * itself).
 */
describe('two session middlewares on one Express request', () => {
  const outerStore = new MemoryStore();
  const innerStore = new MemoryStore();
  const read = async (s: MemoryStore, id: string) =>
    (await s.get(id)) as { n?: number } | undefined;
  let app: INestApplication;

  @Controller()
  class TwoController {
    @Get('two')
    two(@Req() req: Counted) {
      req.session!.n = (req.session!.n ?? 0) + 1;
      return { id: req.sessionID, n: req.session!.n };
    }
  }

  @Module({
    imports: [
      SessionModule.forRoot({
        secret: 'inner-secret-0123456789abcdef-0123456789',
        store: innerStore,
      }),
    ],
    controllers: [TwoController],
  })
  class TwoModule {}

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [TwoModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.use(
      nestSessionExpress({
        name: 'outer',
        secret: 'outer-secret-0123456789abcdef-0123456789',
        store: outerStore,
        resave: false,
        saveUninitialized: false,
      }),
    );
    // `?drop=1`: take the outer session off the request before the module's middleware.
    app.use((req: Request, _res: Response, next: NextFunction) => {
      const counted = req as unknown as Counted;
      counted.session!.n = 10;
      if (req.query.drop === '1') counted.session = null;
      next();
    });
    await app.init();
  });
  afterAll(() => app.close());

  it('the second middleware leaves the first one’s session alone', async () => {
    const res = await request(app.getHttpServer()).get('/two').expect(200);
    const outer = sessionIdOf(cookiePair(res, 'outer'));
    expect(res.body).toEqual({ id: outer, n: 11 });
    expect(res.headers['set-cookie']).toHaveLength(1);
    expect((await read(outerStore, outer))?.n).toBe(11);
    expect(await read(innerStore, outer)).toBeUndefined();
  });

  it('with the session taken off in between, both commits run on the second session', async () => {
    const res = await request(app.getHttpServer()).get('/two?drop=1').expect(200);
    const inner = sessionIdOf(cookiePair(res, 'sid'));
    expect(res.body).toEqual({ id: inner, n: 1 });
    // The first commit ran, on the request's (second) session, as express-session's would: it
    // sends that id in its own cookie, and saves through `req.sessionStore` (the second's store,
    // as express-session's `session.save` does).
    expect(sessionIdOf(cookiePair(res, 'outer'))).toBe(inner);
    expect((await read(innerStore, inner))?.n).toBe(1);
    expect(await read(outerStore, inner)).toBeUndefined();
  });
});
