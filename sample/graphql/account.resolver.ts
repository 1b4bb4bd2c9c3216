import { UnauthorizedException } from '@nestjs/common';
import { Args, Context, Mutation, Query, Resolver } from '@nestjs/graphql';
import { RequireSession } from '../../lib';
import { type AnyRequest, logIn, logOut, userOf } from '../auth/passport-request';
import { type User, UsersService } from '../auth/users.service';
import { UserModel } from './graphql.models';

/**
 * Sign-in over GraphQL, with the same passport login as `POST /auth/login`: `req` in the
 * GraphQL context is the HTTP request (Express's, or Fastify's), whose session nest-session
 * loaded; the response of the operation commits what changed.
 */
@Resolver(() => UserModel)
export class AccountResolver {
  constructor(private readonly users: UsersService) {}

  /** `{ me { username } }`: the signed-in user, or null. */
  @Query(() => UserModel, { nullable: true })
  me(@Context('req') req: AnyRequest): User | null {
    return userOf(req) ?? null;
  }

  /** `mutation { login(username, password) { username } }`: signs in on a new session id. */
  @Mutation(() => UserModel)
  async login(
    @Context('req') req: AnyRequest,
    @Args('username') username: string,
    @Args('password') password: string,
  ): Promise<User> {
    const user = await this.users.verify(username, password);
    // A 401 HttpException: Apollo answers it with extensions.code UNAUTHENTICATED.
    if (!user) throw new UnauthorizedException('Invalid username or password');
    await logIn(req, user); // passport regenerates the session: a new cookie goes back
    return user;
  }

  /** `mutation { logout }`: signs out; the session is destroyed and its cookie cleared. */
  @Mutation(() => Boolean)
  @RequireSession('passport')
  async logout(@Context('req') req: AnyRequest): Promise<boolean> {
    await logOut(req);
    return true;
  }
}
