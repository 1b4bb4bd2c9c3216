import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SessionHealthIndicator } from './session-health.indicator';
import {
  SESSION_HEALTH_OPTIONS,
  type SessionHealthOptions,
  resolveSessionHealthOptions,
} from './session-health.options';

/**
 * Provides {@link SessionHealthIndicator} (with `@nestjs/terminus`'s `HealthIndicatorService`).
 * Needs the `SessionModule` (global by default) for the store it checks.
 *
 * ```ts
 * @Module({
 *   imports: [TerminusModule, SessionModule.forRoot({ ... }), SessionHealthModule.forRoot({ timeout: 500 })],
 *   controllers: [HealthController],
 * })
 * ```
 */
@Module({
  imports: [TerminusModule],
  providers: [SessionHealthIndicator],
  exports: [SessionHealthIndicator],
})
export class SessionHealthModule {
  /** With options (validated at startup: a bad `timeout` fails the boot naming it). */
  static forRoot(options: SessionHealthOptions = {}): DynamicModule {
    return {
      module: SessionHealthModule,
      providers: [
        { provide: SESSION_HEALTH_OPTIONS, useFactory: () => resolveSessionHealthOptions(options) },
      ],
    };
  }
}
