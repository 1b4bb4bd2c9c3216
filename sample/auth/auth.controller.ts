import { Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import type { SessionRequest } from '../../lib';
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
  async logout(@Req() req: Request): Promise<{ signedOut: true }> {
    await new Promise<void>((resolve, reject) =>
      req.logout((err: unknown) => (err ? reject(err) : resolve())),
    );
    // passport replaced the session on logout (regenerate): destroy the current one. The
    // module then clears the browser's cookie itself (an expired Set-Cookie).
    await (req as Request & SessionRequest).session?.destroy();
    return { signedOut: true };
  }
}
