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
import { cookiePair } from './fixtures/cookies';

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
