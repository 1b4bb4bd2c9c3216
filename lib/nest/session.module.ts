import {
  type HttpServer,
  HttpException,
  Inject,
  Logger,
  Optional,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { HttpAdapterHost } from '@nestjs/core';
import type { SessionEngine } from '../engine/lifecycle/session-engine';
import { corsExposureListener } from '../engine/transport/node/cors-exposure';
import { SessionStore } from '../stores/session-store';
import { prepareExpressPrototypes } from './express-prototypes';
import { type MiddlewareMount, httpAdapterIntegration } from './http-adapter-integration';
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
    private readonly middleware: SessionMiddleware,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
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

  /**
   * Installs the session middleware (called by Nest). Covering every route, it goes straight
   * onto the HTTP adapter (the same place in the request's path, without the per-route
   * middleware layer Nest would add; on Fastify through middie, as Nest middleware); with
   * `forRoutes`/`exclude`, through Nest's consumer.
   */
  configure(consumer: MiddlewareConsumer): void {
    this.exposeSessionHeaderToCors();
    const adapter = this.adapterHost?.httpAdapter;
    const mount = adapter ? this.mountOn(adapter) : 'consumer';
    if (mount === 'integration') return;
    if (mount === 'adapter') {
      prepareExpressPrototypes(adapter as HttpServer, this.engine.options.store);
      (adapter as HttpServer).use(directHandler(this.middleware));
      return;
    }
    const proxy = consumer.apply(SessionMiddleware);
    if (this.resolved.exclude.length > 0) proxy.exclude(...this.resolved.exclude);
    proxy.forRoutes(...this.resolved.forRoutes);
  }

  /**
   * Where the middleware goes on this adapter. Express: straight on it for every route. Another
   * adapter with an integration (Fastify, loaded only then) installs what it needs first (hooks,
   * request decorations, its host) and says.
   */
  private mountOn(adapter: HttpServer): MiddlewareMount {
    const allRoutes = this.resolved.allRoutes;
    const type = adapter.getType();
    if (type === 'express') return allRoutes ? 'adapter' : 'consumer';
    const integration = httpAdapterIntegration(type);
    if (!integration) return 'consumer';
    return integration.install({
      adapter,
      engine: this.engine,
      middleware: this.middleware,
      allRoutes,
    });
  }

  /** With `header`: the server's first `'request'` listener (see {@link exposeSessionHeaderToCors}). */
  private corsListener?: {
    server: Server;
    listener: (req: IncomingMessage, res: ServerResponse) => void;
  };

  /**
   * With the `header` option: makes the header usable cross-origin whatever the app's CORS
   * configuration (`exposeSessionHeaderToCors`), on every response of the HTTP server, so that
   * preflights a CORS middleware answers before the session middleware runs are covered too.
   */
  private exposeSessionHeaderToCors(): void {
    const header = this.engine.options.header;
    if (!header || this.corsListener) return;
    let server: Server | undefined;
    try {
      server = this.adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    } catch {
      return;
    }
    if (typeof server?.prependListener !== 'function') return;
    const listener = corsExposureListener(header);
    server.prependListener('request', listener);
    this.corsListener = { server, listener };
  }

  /** Releases the store's timers when the module created the store (never a store you passed in). */
  async onApplicationShutdown(): Promise<void> {
    if (this.corsListener) {
      this.corsListener.server.off('request', this.corsListener.listener);
      this.corsListener = undefined;
    }
    const options = this.engine.options;
    if (!options.storeCreated) return;
    const store = options.store as { close?: () => unknown };
    if (typeof store.close === 'function') await store.close();
  }
}

/**
 * The middleware as a plain Express handler. Errors it raises (a 503 when the store is down)
 * are answered the way Nest's default exception filter answers them.
 */
function directHandler(middleware: SessionMiddleware) {
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    try {
      middleware.run(req, res, next as () => void, (err) => answerError(res, err));
    } catch (err) {
      answerError(res, err);
    }
  };
}

function answerError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof HttpException ? err.getStatus() : 500;
  const body =
    err instanceof HttpException
      ? err.getResponse()
      : { statusCode: 500, message: 'Internal server error' };
  if (!(err instanceof HttpException)) new Logger('Session').error(err);
  const json = JSON.stringify(
    typeof body === 'string' ? { statusCode: status, message: body } : body,
  );
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}
