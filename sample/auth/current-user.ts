import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { userOf } from './passport-request';
import type { User } from './users.service';

/** The signed-in user (deserialized by passport from the session); 401 when there is none. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): User => {
  const user = userOf(ctx.switchToHttp().getRequest());
  if (!user) throw new UnauthorizedException('Please sign in');
  return user;
});

/** Lets only administrators through (403 for other signed-in users). */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const user = userOf(context.switchToHttp().getRequest());
    if (!user) throw new UnauthorizedException('Please sign in');
    if (!user.roles.includes('admin')) throw new ForbiddenException('Administrators only');
    return true;
  }
}
