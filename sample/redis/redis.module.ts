import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';

/** Token of the app's ioredis client, or `null` when REDIS_URL is not set. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

function createClient(config: AppConfig): Redis | null {
  if (!config.redisUrl) return null;
  // Loaded only when Redis is configured: the app runs without ioredis installed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ioredis = require('ioredis') as typeof import('ioredis');
  const client = new ioredis.Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const logger = new Logger('Redis');
  client.on('error', (err: Error) => logger.error(err.message));
  return client;
}

/** Owns the app's Redis connection: opened at startup, closed on shutdown. */
@Module({
  providers: [{ provide: REDIS_CLIENT, inject: [AppConfig], useFactory: createClient }],
  exports: [REDIS_CLIENT],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.client || this.client.status === 'end') return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
