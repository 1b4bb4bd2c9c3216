import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import passport from 'passport';
import { AdminGuard } from './current-user';
import { AuthController } from './auth.controller';
import { LocalStrategy } from './local.strategy';
import { SessionSerializer } from './session.serializer';
import { UsersService } from './users.service';

/** Sign-in with passport-local, remembered in the session. */
@Module({
  imports: [PassportModule.register({ session: true })],
  controllers: [AuthController],
  providers: [UsersService, LocalStrategy, SessionSerializer, AdminGuard],
  exports: [UsersService, AdminGuard],
})
export class AuthModule implements NestModule {
  /**
   * passport's middleware runs after the session middleware (SessionModule installs it first):
   * `passport.session()` reads `req.session.passport.user` and sets `req.user`.
   */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(passport.initialize(), passport.session()).forRoutes('{*splat}');
  }
}
