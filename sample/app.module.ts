import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { SessionModule, type SessionModuleOptions } from '../lib';
import { RedisStore } from '../lib/stores/redis/redis-store';
import { AdminController } from './admin/admin.controller';
import { AuthModule } from './auth/auth.module';
import { CartController } from './cart/cart.controller';
import { CatalogService } from './cart/catalog';
import { AppConfig, AppConfigModule } from './config/app-config';
import { CartService } from './cart/cart.service';
import { CounterController } from './counter/counter.controller';
import { SampleGraphqlModule } from './graphql/sample-graphql.module';
import { LiveModule } from './live/live.module';
import { ProfileController } from './profile/profile.controller';
import { REDIS_CLIENT, RedisModule } from './redis/redis.module';
import { SESSION_COOKIE_NAME } from './session/session-data';
import { CSRF_FIELD } from './web/device-info';
import { WebModule } from './web/web.module';

const EIGHT_HOURS = 8 * 60 * 60 * 1000;

/** The session options, from the app's config and (when REDIS_URL is set) its Redis client. */
export function sessionOptions(config: AppConfig, redis: Redis | null): SessionModuleOptions {
  return {
    secret: config.sessionSecret,
    name: SESSION_COOKIE_NAME,
    cookie: { maxAge: EIGHT_HOURS, secure: config.production },
    // Clients without cookies (CLIs, mobile apps) send the signed id in this header instead.
    header: 'x-session-id',
    // CsrfGuard (the HTML forms): the token in this form field, or the x-csrf-token header.
    csrf: { field: CSRF_FIELD },
    // Redis when configured; otherwise the module's default MemoryStore (one process only).
    store: redis ? new RedisStore({ client: redis, prefix: config.redisPrefix }) : undefined,
    // The stores index sessions by their passport user: "your devices", "sign out everywhere".
    userKey: (session) => (session as { passport?: { user?: unknown } }).passport?.user,
  };
}

@Module({
  imports: [
    AppConfigModule,
    SessionModule.forRootAsync({
      imports: [RedisModule],
      inject: [AppConfig, REDIS_CLIENT],
      useFactory: sessionOptions,
    }),
    AuthModule,
    WebModule,
    LiveModule,
    SampleGraphqlModule,
  ],
  controllers: [ProfileController, CartController, CounterController, AdminController],
  providers: [CatalogService, CartService],
})
export class AppModule {}
