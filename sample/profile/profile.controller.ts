import { Controller, Get } from '@nestjs/common';
import { RequireSession, Session, type SessionValue } from '../../lib';
import { CurrentUser } from '../auth/current-user';
import type { User } from '../auth/users.service';

/** The signed-in user's profile: needs a session that holds a passport login. */
@Controller('profile')
@RequireSession('passport')
export class ProfileController {
  /** `GET /profile`. */
  @Get()
  show(
    @CurrentUser() user: User,
    @Session('visits') visits: SessionValue<'visits'>,
    @Session('shoppingCart') cart: SessionValue<'shoppingCart'>,
  ): User & { visits: number; cartItems: number } {
    return {
      ...user,
      visits: visits ?? 0,
      cartItems: (cart ?? []).reduce((n, line) => n + line.quantity, 0),
    };
  }
}
