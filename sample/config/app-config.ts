import { Global, Logger, Module } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/** The app's settings, read once from the environment. */
export class AppConfig {
  private constructor(
    /** Signs the session cookie (SESSION_SECRET, at least 32 characters). */
    readonly sessionSecret: string,
    /** When set, sessions live in Redis (REDIS_URL, e.g. redis://localhost:6379). */
    readonly redisUrl: string | undefined,
    /** Key prefix of the sessions in Redis (REDIS_PREFIX). */
    readonly redisPrefix: string,
    /** NODE_ENV=production: secure cookies, no generated secret. */
    readonly production: boolean,
  ) {}

  /** Reads the settings from `env` (default `process.env`). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
    const production = env.NODE_ENV === 'production';
    let secret = env.SESSION_SECRET;
    if (!secret) {
      if (production) throw new Error('SESSION_SECRET is required in production');
      secret = randomBytes(32).toString('hex');
      new Logger('AppConfig').warn(
        'SESSION_SECRET is not set: using a random secret generated at startup (development ' +
          'only). Sessions will not survive a restart; set SESSION_SECRET to 32+ random characters.',
      );
    }
    return new AppConfig(
      secret,
      env.REDIS_URL || undefined,
      env.REDIS_PREFIX || 'sample:sess:',
      production,
    );
  }
}

/** Provides {@link AppConfig} to every module. */
@Global()
@Module({
  providers: [{ provide: AppConfig, useFactory: () => AppConfig.fromEnv() }],
  exports: [AppConfig],
})
export class AppConfigModule {}
