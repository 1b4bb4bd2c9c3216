import { SessionOptionsError } from '../nest/session-options.error';

/** Options of {@link SessionHealthIndicator} (through `SessionHealthModule.forRoot`). */
export interface SessionHealthOptions {
  /**
   * Milliseconds the store has to answer a health check before it is reported down (a frozen
   * Redis, a store that hangs). Default 1000.
   */
  timeout?: number;
}

/** The options validated, with their defaults. @internal */
export interface ResolvedSessionHealthOptions {
  readonly timeout: number;
}

/** Token of the health check's options. @internal */
export const SESSION_HEALTH_OPTIONS = Symbol('SESSION_HEALTH_OPTIONS');

const DEFAULT_TIMEOUT = 1000;
/** The longest `setTimeout` accepts. */
const MAX_TIMEOUT = 2_147_483_647;

/**
 * Validates the health check's options: a bad value fails the application's boot with a
 * {@link SessionOptionsError} naming the option. @internal
 */
export function resolveSessionHealthOptions(
  options: SessionHealthOptions | undefined,
): ResolvedSessionHealthOptions {
  const timeout = options?.timeout ?? DEFAULT_TIMEOUT;
  if (
    typeof timeout !== 'number' ||
    !Number.isFinite(timeout) ||
    timeout <= 0 ||
    timeout > MAX_TIMEOUT
  ) {
    throw new SessionOptionsError(
      'health.timeout',
      `SessionHealthModule's timeout must be a number of milliseconds > 0 (got ${String(timeout)})`,
    );
  }
  return { timeout };
}
