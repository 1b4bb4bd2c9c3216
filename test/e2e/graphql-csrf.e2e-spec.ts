/**
 * CsrfGuard in GraphQL resolvers, on each driver (Apollo on Express, Apollo on Fastify,
 * Mercurius on Fastify) with its default context: a mutation sent by POST needs the session's
 * token in the `x-csrf-token` header, and a refusal is a `GraphQLError` with
 * `extensions.code: 'FORBIDDEN'` and the HTTP refusal's message (`data: null`, the session left
 * as it was); queries, GraphQL's read-only operations, pass by POST as by GET; `@SkipCsrf()` and
 * a subclass's `tokenOf` / `reject` work there too; and a controller of the same application
 * still answers the 403 `CsrfTokenException`.
 */
import 'reflect-metadata';
import {
  Controller,
  type ExecutionContext,
  HttpCode,
  Injectable,
  type INestApplication,
  Post,
  UseGuards,
} from '@nestjs/common';
import { Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import request from 'supertest';
import {
  type CsrfFailure,
  CsrfGuard,
  CsrfToken,
  MemoryStore,
  type RequestSession,
  Session,
  SessionModule,
  type SessionRequest,
  type SessionValue,
  SkipCsrf,
} from '../../lib';
import {
  GRAPHQL_DRIVERS,
  type GraphqlAnswer,
  bootGraphqlApp,
  graphql,
} from '../support/graphql-apps';
import { cookiePair, sessionIdOf, setCookieFor } from './fixtures/cookies';
import { testSecret } from './fixtures/secret';
import './fixtures/session-data';

const COOKIE = 'gql.sid';

const MISSING =
  'CSRF token missing: send the session\'s token in the "_csrf" field or the "x-csrf-token" header';
const INVALID =
  'CSRF token invalid: it does not belong to this session (expired, or from before sign-in). ' +
  'Reload the page and try again';

/** Counts visits; every operation under CsrfGuard. */
@Resolver()
@UseGuards(CsrfGuard)
class CsrfResolver {
  /** A token for the session (creates the secret, and the session, on a first call). */
  @Query(() => String)
  csrfToken(@CsrfToken() token: string): string {
    return token;
  }

  @Query(() => Int)
  visits(@Session('visits') visits: SessionValue<'visits'>): number {
    return visits ?? 0;
  }

  @Mutation(() => Int)
  visit(@Session() session: RequestSession): number {
    session.visits = (session.visits ?? 0) + 1;
    return session.visits;
  }

  @Mutation(() => Boolean)
  @SkipCsrf()
  hook(): boolean {
    return true;
  }
}

/** The reasons {@link AppTokenGuard} refused, in order. */
const refusals: CsrfFailure[] = [];

/** A subclass: the token in `x-app-token` only, each refusal recorded, then refused as usual. */
@Injectable()
class AppTokenGuard extends CsrfGuard {
  protected override tokenOf(req: SessionRequest): unknown {
    return req.headers['x-app-token'];
  }

  protected override reject(context: ExecutionContext, reason: CsrfFailure): never {
    refusals.push(reason);
    return super.reject(context, reason);
  }
}

@Resolver()
class AppTokenResolver {
  @Mutation(() => Int)
  @UseGuards(AppTokenGuard)
  appVisit(@Session() session: RequestSession): number {
    session.visits = (session.visits ?? 0) + 1;
    return session.visits;
  }
}

/** The same guard on a controller of the GraphQL application: HTTP's 403. */
@Controller('rest')
@UseGuards(CsrfGuard)
class RestController {
  @Post('visit')
  @HttpCode(200)
  visit(@Session() session: RequestSession): { visits: number } {
    session.visits = (session.visits ?? 0) + 1;
    return { visits: session.visits };
  }
}

describe.each(GRAPHQL_DRIVERS)('CsrfGuard in resolvers with %s', (driver) => {
  let app: INestApplication;
  let store: MemoryStore;

  beforeAll(async () => {
    store = new MemoryStore({ pruneInterval: 0 });
    app = await bootGraphqlApp(driver, {
      imports: [SessionModule.forRoot({ secret: testSecret(), name: COOKIE, store })],
      providers: [CsrfResolver, AppTokenResolver, AppTokenGuard],
      controllers: [RestController],
    });
  });
  afterAll(() => app.close());

  /** A session with a CSRF secret: its cookie, id and one token (a query, by POST). */
  async function tokenSession(): Promise<{ cookie: string; sid: string; csrf: string }> {
    const answer = await graphql<{ csrfToken: string }>(app, '{ csrfToken }');
    expect(answer.errors).toBeUndefined();
    const cookie = cookiePair(answer.res, COOKIE);
    return { cookie, sid: sessionIdOf(cookie), csrf: answer.data?.csrfToken as string };
  }

  /** A refused operation as each driver answers it: 200, `data: null`, one FORBIDDEN error. */
  function expectForbidden(answer: GraphqlAnswer<unknown>, message: string): void {
    expect(answer.res.status).toBe(200);
    expect(answer.data).toBeNull();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors?.[0]).toMatchObject({ message, extensions: { code: 'FORBIDDEN' } });
    expect(setCookieFor(answer.res, COOKIE)).toBeUndefined();
  }

  it('a mutation without the token is refused: FORBIDDEN, data null, the session unchanged', async () => {
    const { cookie, sid } = await tokenSession();
    const before = await store.get(sid);
    expectForbidden(await graphql(app, 'mutation { visit }', { cookie }), MISSING);
    expect(await store.get(sid)).toEqual(before);

    // Without a session at all: refused the same way, and nothing is created.
    const count = (await store.ids()).length;
    expectForbidden(await graphql(app, 'mutation { visit }'), MISSING);
    expect((await store.ids()).length).toBe(count);
  });

  it("a mutation with another session's token, or a garbled one, is refused as invalid", async () => {
    const { cookie, sid, csrf } = await tokenSession();
    const foreign = (await tokenSession()).csrf;
    const before = await store.get(sid);
    for (const token of [foreign, csrf.slice(0, 40), 'garbage']) {
      const answer = await graphql(app, 'mutation { visit }', {
        cookie,
        headers: { 'x-csrf-token': token },
      });
      expectForbidden(answer, INVALID);
    }
    expect(await store.get(sid)).toEqual(before);
  });

  it("a mutation with the session's token in x-csrf-token is accepted and saved", async () => {
    const { cookie, sid, csrf } = await tokenSession();
    for (const expected of [1, 2]) {
      const answer = await graphql(app, 'mutation { visit }', {
        cookie,
        headers: { 'x-csrf-token': csrf },
      });
      expect(answer).toMatchObject({ data: { visit: expected }, errors: undefined });
    }
    expect((await store.get(sid))?.visits).toBe(2);
    const read = await graphql(app, '{ visits }', { cookie });
    expect(read.data).toEqual({ visits: 2 });
  });

  it('queries are not checked: by POST without a token, and by GET', async () => {
    const { cookie, csrf } = await tokenSession();
    await graphql(app, 'mutation { visit }', { cookie, headers: { 'x-csrf-token': csrf } });
    // POST: the method the guard checks on a controller, but a query changes nothing.
    const posted = await graphql(app, '{ visits }', { cookie });
    expect(posted).toMatchObject({ data: { visits: 1 }, errors: undefined });
    // GET (Apollo's CSRF prevention asks GET requests for a header a form cannot send).
    const got = await request(app.getHttpServer())
      .get('/graphql')
      .query({ query: '{ visits }' })
      .set('cookie', cookie)
      .set('apollo-require-preflight', 'true')
      .expect(200);
    expect(got.body).toEqual({ data: { visits: 1 } });
  });

  it('@SkipCsrf() on a mutation lets it through without a token', async () => {
    const answer = await graphql(app, 'mutation { hook }');
    expect(answer).toMatchObject({ data: { hook: true }, errors: undefined });
  });

  it("a subclass's tokenOf and reject apply in resolvers, and its refusal is still FORBIDDEN", async () => {
    refusals.length = 0;
    const { cookie, csrf } = await tokenSession();
    // The standard header is not where this subclass looks.
    const standard = await graphql(app, 'mutation { appVisit }', {
      cookie,
      headers: { 'x-csrf-token': csrf },
    });
    expectForbidden(standard, MISSING);
    const wrong = await graphql(app, 'mutation { appVisit }', {
      cookie,
      headers: { 'x-app-token': 'nope' },
    });
    expectForbidden(wrong, INVALID);
    expect(refusals).toEqual(['missing', 'invalid']);
    const accepted = await graphql(app, 'mutation { appVisit }', {
      cookie,
      headers: { 'x-app-token': csrf },
    });
    expect(accepted).toMatchObject({ data: { appVisit: 1 }, errors: undefined });
  });

  it("a controller of the same application keeps HTTP's 403 CsrfTokenException", async () => {
    const { cookie, csrf } = await tokenSession();
    const refused = await request(app.getHttpServer())
      .post('/rest/visit')
      .set('cookie', cookie)
      .expect(403);
    expect(refused.body).toEqual({ statusCode: 403, error: 'Forbidden', message: MISSING });
    await request(app.getHttpServer())
      .post('/rest/visit')
      .set('cookie', cookie)
      .set('x-csrf-token', csrf)
      .expect(200, { visits: 1 });
  });
});
