import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request } from 'express';
import type { User } from './users.service';

/** The signed-in user (deserialized by passport from the session); 401 when there is none. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): User => {
  const user = ctx.switchToHttp().getRequest<Request>().user as User | undefined;
  if (!user) throw new UnauthorizedException('Please sign in');
  return user;
});

/** Lets only administrators through (403 for other signed-in users). */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<Request>().user as User | undefined;
    if (!user) throw new UnauthorizedException('Please sign in');
    if (!user.roles.includes('admin')) throw new ForbiddenException('Administrators only');
    return true;
  }
}
