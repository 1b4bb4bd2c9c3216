import { Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { SessionRequest } from '../../lib';
import { SESSION_COOKIE_NAME } from '../session/session-data';
import { CurrentUser } from './current-user';
import { LocalAuthGuard } from './local-auth.guard';
import type { User } from './users.service';

@Controller('auth')
export class AuthController {
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
  async logout(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ signedOut: true }> {
    await new Promise<void>((resolve, reject) =>
      req.logout((err: unknown) => (err ? reject(err) : resolve())),
    );
    // passport replaced the session on logout (regenerate): destroy the current one.
    await (req as Request & SessionRequest).session?.destroy();
    res.clearCookie(SESSION_COOKIE_NAME, { path: '/', httpOnly: true, sameSite: 'lax' });
    return { signedOut: true };
  }
}
