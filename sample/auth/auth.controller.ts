import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import { RequireSession, SessionId, SessionService } from '../../lib';
import { CurrentUser } from './current-user';
import { LocalAuthGuard } from './local-auth.guard';
import { logOut } from './passport-request';
import { type User, UsersService } from './users.service';

@Controller('auth')
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionService,
  ) {}

  /** `POST /auth/login` with `{ username, password }`: signs in (on a brand-new session id). */
  @Post('login')
  @HttpCode(200)
  @UseGuards(LocalAuthGuard)
  login(@CurrentUser() user: User): { user: User } {
    return { user };
  }

  /** `POST /auth/logout`: signs out, destroys the session and clears the cookie. */
  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request): Promise<{ signedOut: true }> {
    // passport replaces the session on logout (regenerate), then the new one is destroyed: the
    // module clears the browser's cookie itself (an expired Set-Cookie).
    await logOut(req);
    return { signedOut: true };
  }

  /**
   * `POST /auth/password` with `{ currentPassword, newPassword }`: changes the password and
   * signs the user out of every other device (their sessions are revoked).
   */
  @Post('password')
  @HttpCode(200)
  @RequireSession('passport')
  async changePassword(
    @CurrentUser() user: User,
    @SessionId() current: string,
    @Body() body: { currentPassword?: unknown; newPassword?: unknown },
  ): Promise<{ changed: true; otherSessionsRevoked: number }> {
    const { currentPassword, newPassword } = body ?? {};
    if (
      typeof currentPassword !== 'string' ||
      typeof newPassword !== 'string' ||
      newPassword.length < 8
    ) {
      throw new BadRequestException('currentPassword and newPassword (8+ characters) are required');
    }
    if (!(await this.users.changePassword(user.username, currentPassword, newPassword))) {
      throw new ForbiddenException('The current password is wrong');
    }
    const revoked = await this.sessions.destroyForUser(user.username, { except: current });
    return { changed: true, otherSessionsRevoked: revoked };
  }
}
