/**
 * The HTTP adapters the e2e suites run on: one source, `describe.each(HTTP_ADAPTERS)`. A real Nest
 * application on Express (Nest's default) or on `@nestjs/platform-fastify`.
 */
import type { INestApplication } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import type { FastifyAdapter as FastifyAdapterType } from '@nestjs/platform-fastify';

export type HttpAdapterKind = 'express' | 'fastify';

/** Both adapters; `HTTP_ADAPTER=express` (or `fastify`) keeps one while iterating. */
export const HTTP_ADAPTERS: readonly HttpAdapterKind[] = process.env.HTTP_ADAPTER
  ? [process.env.HTTP_ADAPTER as HttpAdapterKind]
  : ['express', 'fastify'];

/** Options of the Fastify instance (`trustProxy`, `skipMiddie`, ...). */
export type FastifyOptions = ConstructorParameters<typeof FastifyAdapterType>[0];

/** Per-adapter settings of an application. */
export interface AdapterSettings {
  /** Fastify's constructor options. */
  fastify?: FastifyOptions;
  /** Nest application options (`logger: false` by default). */
  logger?: false;
}

/** A Nest application for `moduleRef` on the `kind` adapter (not initialized). */
export function createAppOn(
  moduleRef: TestingModule,
  kind: HttpAdapterKind,
  settings: AdapterSettings = {},
): INestApplication {
  if (kind === 'express') return moduleRef.createNestApplication({ logger: false });
  // Loaded only for Fastify runs, as an application would.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { FastifyAdapter } = require('@nestjs/platform-fastify') as {
    FastifyAdapter: typeof FastifyAdapterType;
  };
  return moduleRef.createNestApplication(new FastifyAdapter(settings.fastify), { logger: false });
}

/** `app.init()`, then (Fastify) its `ready()`, so that supertest can drive `getHttpServer()`. */
export async function initApp(app: INestApplication): Promise<INestApplication> {
  await app.init();
  const instance = app.getHttpAdapter().getInstance() as { ready?: () => Promise<unknown> };
  if (app.getHttpAdapter().getType() === 'fastify') await instance.ready?.();
  return app;
}

/** Sets Express's `trust proxy` (the Fastify equivalent is the `trustProxy` option). */
export function trustProxy(app: INestApplication): void {
  (app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set(
    'trust proxy',
    true,
  );
}
