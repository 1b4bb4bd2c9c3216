import {
  Inject,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { SessionEngine } from '../engine/session-middleware';
import { SessionStore } from '../stores/session-store';
import { type ResolvedModuleOptions } from './resolve-module-options';
import { SESSION_ENGINE, SESSION_RESOLVED_OPTIONS } from './session.constants';
import { SessionGuard } from './session.guard';
import { SessionMiddleware } from './session.middleware';
import { SessionService } from './session.service';
import { SessionModuleBase } from './session.module-definition';
import { engineProvider, resolvedOptionsProvider, storeProvider } from './session.providers';

/**
 * Server-side sessions for a Nest application.
 *
 * ```ts
 * @Module({ imports: [SessionModule.forRoot({ secret: process.env.SESSION_SECRET! })] })
 * export class AppModule {}
 * ```
 *
 * Installs the session middleware on every route (or `forRoutes`, minus `exclude`), provides the
 * store as {@link SessionStore}, and releases what it created on `app.close()`. Global by default
 * (`isGlobal: false` to scope it).
 */
@Module({
  providers: [
    resolvedOptionsProvider,
    engineProvider,
    storeProvider,
    SessionMiddleware,
    SessionGuard,
    SessionService,
  ],
  exports: [SessionStore, SessionGuard, SessionService, SESSION_RESOLVED_OPTIONS],
})
export class SessionModule extends SessionModuleBase implements NestModule, OnApplicationShutdown {
  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly resolved: ResolvedModuleOptions,
    @Inject(SESSION_ENGINE) private readonly engine: SessionEngine,
  ) {
    super();
    if (process.env.NODE_ENV === 'production' && engine.options.storeCreated) {
      SessionModule.warnMemoryStoreOnce();
    }
  }

  private static warned = false;

  private static warnMemoryStoreOnce(): void {
    if (SessionModule.warned) return;
    SessionModule.warned = true;
    new Logger('Session').warn(
      'No store configured: sessions are kept in this process (MemoryStore). They are lost on ' +
        'restart and not shared between instances; configure a RedisStore in production.',
    );
  }

  /** Installs the session middleware (called by Nest). */
  configure(consumer: MiddlewareConsumer): void {
    const proxy = consumer.apply(SessionMiddleware);
    if (this.resolved.exclude.length > 0) proxy.exclude(...this.resolved.exclude);
    proxy.forRoutes(...this.resolved.forRoutes);
  }

  /** Releases the store's timers when the module created the store (never a store you passed in). */
  async onApplicationShutdown(): Promise<void> {
    const options = this.engine.options;
    if (!options.storeCreated) return;
    const store = options.store as { close?: () => unknown };
    if (typeof store.close === 'function') await store.close();
  }
}
