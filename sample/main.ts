import 'reflect-metadata';
import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { useLiveSessions } from './live/live.module';

/**
 * The application on the HTTP adapter `HTTP_ADAPTER` names: `express` (default) or `fastify`.
 * Nothing else changes: SessionModule finds the adapter itself.
 */
async function create(): Promise<INestApplication> {
  const adapter = process.env.HTTP_ADAPTER ?? 'express';
  if (adapter === 'express') return NestFactory.create(AppModule);
  if (adapter !== 'fastify')
    throw new Error(`HTTP_ADAPTER must be express or fastify, not ${adapter}`);
  // Loaded only here: the Express sample never needs @nestjs/platform-fastify.
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return NestFactory.create(AppModule, new FastifyAdapter());
}

async function bootstrap(): Promise<void> {
  const app = await create();
  // The pages' live channel (socket.io) reads the same sessions.
  useLiveSessions(app);
  // SIGINT/SIGTERM close the app: the Redis connection and the session store are released.
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const adapter = app.getHttpAdapter().getType();
  new Logger('Sample').log(`Listening on http://localhost:${port} (${adapter})`);
}

bootstrap().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
