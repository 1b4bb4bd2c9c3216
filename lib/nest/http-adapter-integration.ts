import type { HttpServer } from '@nestjs/common';
import type { SessionEngine } from '../engine/lifecycle/session-engine';
import type { SessionMiddleware } from './session.middleware';

/** What {@link SessionModule} hands an HTTP adapter integration when the application is set up. */
export interface HttpAdapterSetup {
  /** Nest's HTTP adapter (`HttpAdapterHost.httpAdapter`). */
  readonly adapter: HttpServer;
  /** The module's engine: the integration may give it its own host (`useHost`). */
  readonly engine: SessionEngine;
  /** The Nest middleware that loads the session. */
  readonly middleware: SessionMiddleware;
  /** Every route has sessions (no `forRoutes`, no `exclude`). */
  readonly allRoutes: boolean;
}

/**
 * Where the session middleware goes once the integration is installed: straight on the adapter
 * (`adapter.use`, every route), through Nest's middleware consumer (`forRoutes`/`exclude`), or
 * nowhere because the integration loads the session itself.
 */
export type MiddlewareMount = 'adapter' | 'consumer' | 'integration';

/**
 * An HTTP adapter other than Express (Fastify): what it needs besides the session middleware
 * (hooks, request decorations, a host that commits at its own moment).
 */
export interface HttpAdapterIntegration {
  install(setup: HttpAdapterSetup): MiddlewareMount;
}

const loaders = new Map<string, () => HttpAdapterIntegration>();
const loaded = new Map<string, HttpAdapterIntegration>();

/**
 * Registers the integration for the adapter whose `getType()` is `type`. `load` runs the first
 * time an application on that adapter is set up, so an application on another adapter never
 * loads it (nor the framework it needs). Called by the package's entry point (`lib/index.ts`):
 * this layer never imports an adapter.
 */
export function registerHttpAdapterIntegration(
  type: string,
  load: () => HttpAdapterIntegration,
): void {
  loaders.set(type, load);
}

/** The integration for an adapter type, loaded on first use; `undefined` when none (Express). */
export function httpAdapterIntegration(type: string): HttpAdapterIntegration | undefined {
  let integration = loaded.get(type);
  if (integration) return integration;
  const load = loaders.get(type);
  if (!load) return undefined;
  integration = load();
  loaded.set(type, integration);
  return integration;
}
