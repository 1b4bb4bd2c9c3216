import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestState } from '../engine/request-state';
import type { SessionEngine } from '../engine/lifecycle/session-engine';
import { StoreTimeoutError } from '../engine/store/store-call';
import type { ResolvedModuleOptions } from './resolve-module-options';
import { SESSION_ENGINE, SESSION_RESOLVED_OPTIONS } from './session.constants';
import { SessionStoreUnavailableException } from './session.exceptions';

/**
 * Runs the session engine for Nest routes (installed by `SessionModule`, nobody calls `app.use`).
 * Store failures while loading become a 503 {@link SessionStoreUnavailableException} through
 * Nest's exception filters (or, with `onStoreError: 'continue'`, a request without a session).
 * @internal
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Session');

  constructor(
    @Inject(SESSION_ENGINE) private readonly engine: SessionEngine,
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedModuleOptions,
  ) {}

  use(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void | Promise<void> {
    let answered = false;
    let failure: { err: unknown } | undefined;
    let settle: ((failed: { err: unknown } | undefined) => void) | undefined;
    this.run(
      req,
      res,
      () => {
        answered = true;
        next();
        settle?.(undefined);
      },
      (err) => {
        answered = true;
        failure = { err };
        settle?.(failure);
      },
    );
    if (answered) {
      if (failure) throw failure.err;
      return;
    }
    // The store is loading the session: let Nest await it (and route a failure to its filters).
    return new Promise<void>((resolve, reject) => {
      settle = (failed) => (failed ? reject(failed.err) : resolve());
    });
  }

  /**
   * The callback form of {@link SessionMiddleware.use} (no promise): `next()` when the request
   * goes on, `fail(err)` with the error to answer (a 503 {@link SessionStoreUnavailableException}
   * for a store failure). Used by the direct install on the Express adapter.
   */
  run(
    req: IncomingMessage,
    res: ServerResponse,
    next: () => void,
    fail: (err: unknown) => void,
  ): void {
    let called = false;
    this.engine.middleware(req, res, (err?: unknown) => {
      if (called) {
        // Reported after the request moved on (express-session reports late store errors so).
        if (err) this.logger.error(`Session error after the response: ${describe(err)}`);
        return;
      }
      called = true;
      if (!err) return next();
      let failure: unknown;
      try {
        this.proceed(req, res, err, next);
        return;
      } catch (e) {
        failure = e;
      }
      fail(failure);
    });
  }

  private proceed(req: IncomingMessage, res: ServerResponse, err: unknown, next: () => void): void {
    const storeFailed =
      err instanceof StoreTimeoutError ||
      requestState<{ loadFailed?: boolean }>(req)?.loadFailed === true;
    if (!storeFailed) throw err;
    if (this.options.onStoreError === 'continue') {
      this.logger.warn(`Session store failed; serving without a session: ${describe(err)}`);
      return next();
    }
    this.logger.error(`Session store unavailable: ${describe(err)}`);
    if (!res.headersSent) res.setHeader('Retry-After', '1');
    throw new SessionStoreUnavailableException(err);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
