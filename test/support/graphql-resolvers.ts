/**
 * Code-first resolvers for the GraphQL suites: read the session (`@Session()`, `@Session(key)`,
 * `@SessionId()`), change it in mutations (write, regenerate on login, destroy on logout), and
 * guard operations (`@RequireSession` on a handler and on a resolver class, `@OptionalSession`
 * with the guard global). They reach the request only through the GraphQL context (`req`).
 */
import { Args, Context, Int, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import {
  OptionalSession,
  type RequestSession,
  RequireSession,
  Session,
  SessionId,
  type SessionRequest,
  type SessionValue,
} from '../../lib';
import '../e2e/fixtures/session-data';

/** Reads and writes the session; no guard. */
@Resolver()
export class SessionResolver {
  /** The signed-in user (`@Session('userId')`). */
  @Query(() => String, { nullable: true })
  userId(@Session('userId') userId: SessionValue<'userId'>): string | null {
    return userId ?? null;
  }

  /** The session id (`@SessionId()`). */
  @Query(() => String, { nullable: true })
  sessionId(@SessionId() id: string | undefined): string | null {
    return id ?? null;
  }

  /** The visits counted so far, read through `@Session()` (a read only: nothing to save). */
  @Query(() => Int)
  visits(@Session() session: RequestSession | undefined): number {
    return session?.visits ?? 0;
  }

  /** Counts a visit in the session. */
  @Mutation(() => Int)
  visit(@Session() session: RequestSession): number {
    session.visits = (session.visits ?? 0) + 1;
    return session.visits;
  }

  /** Signs in on a new session id: regenerate, then write on the request's new session. */
  @Mutation(() => String)
  async login(
    @Session() session: RequestSession,
    @Context('req') req: SessionRequest,
    @Args('userId') userId: string,
  ): Promise<string> {
    await session.regenerate();
    (req.session as RequestSession).userId = userId;
    return req.sessionID as string;
  }

  /** Signs out: destroys the session (the module clears the cookie). */
  @Mutation(() => Boolean)
  async logout(@Session() session: RequestSession): Promise<boolean> {
    await session.destroy();
    return true;
  }

  /** Needs a session holding `userId` (the guard on the handler). */
  @Query(() => String)
  @RequireSession('userId')
  secret(@Session('userId') userId: SessionValue<'userId'>): string {
    return `for ${userId}`;
  }
}

/** Every operation needs an existing session (the guard on the class). */
@Resolver()
@RequireSession()
export class MembersResolver {
  @Query(() => String)
  membersOnly(@SessionId() id: string): string {
    return id;
  }
}

/** For an application with `SessionGuard` as APP_GUARD: one public query, one guarded. */
@Resolver()
export class GloballyGuardedResolver {
  @Query(() => String)
  @OptionalSession()
  welcome(@Session('userId') userId: SessionValue<'userId'>): string {
    return userId ? `welcome back ${userId}` : 'welcome';
  }

  @Query(() => Int)
  account(@Session('visits') visits: SessionValue<'visits'>): number {
    return visits ?? 0;
  }

  @Mutation(() => Int)
  @OptionalSession()
  visitAnonymously(@Session() session: RequestSession): number {
    session.visits = (session.visits ?? 0) + 1;
    return session.visits;
  }
}

/** One event, then the end: enough for a subscription to show what its resolver saw. */
async function* once<T>(payload: T): AsyncGenerator<T> {
  yield payload;
}

/** Subscriptions over graphql-ws: they see the session of the connection's upgrade request. */
@Resolver()
export class SubscriptionResolver {
  @Subscription(() => String, { nullable: true })
  whoami(@Session('userId') userId: SessionValue<'userId'>): AsyncGenerator<unknown> {
    return once({ whoami: userId ?? null });
  }

  @Subscription(() => String, { nullable: true })
  mySessionId(@SessionId() id: string | undefined): AsyncGenerator<unknown> {
    return once({ mySessionId: id ?? null });
  }

  @Subscription(() => String)
  @RequireSession('userId')
  secretFeed(@Session('userId') userId: SessionValue<'userId'>): AsyncGenerator<unknown> {
    return once({ secretFeed: `for ${userId}` });
  }
}
