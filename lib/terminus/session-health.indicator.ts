import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { SessionStore } from '../stores/session-store';
import { probeStore } from './store-probe';
import {
  type ResolvedSessionHealthOptions,
  SESSION_HEALTH_OPTIONS,
  type SessionHealthOptions,
  resolveSessionHealthOptions,
} from './session-health.options';

/**
 * A `@nestjs/terminus` health indicator for the session store: checks that it answers within
 * `timeout` (one `PING` per Redis server, each master of a Cluster; nothing for a MemoryStore; a
 * `get` of a random id for other stores) and reports the latency, and for Redis which server
 * failed.
 *
 * ```ts
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.session.isHealthy('session')]);
 * }
 * ```
 */
@Injectable()
export class SessionHealthIndicator {
  private readonly options: ResolvedSessionHealthOptions;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly store: SessionStore,
    @Optional() @Inject(SESSION_HEALTH_OPTIONS) options?: SessionHealthOptions,
  ) {
    this.options = resolveSessionHealthOptions(options);
  }

  /**
   * Probes the store; `up` or `down` under `key`, with `store` (its class), `check` (what was
   * sent), `latencyMs`, and for Redis `nodes` (each server's address, `ok`, `latencyMs`) and
   * `failedNodes`; `down` also carries a `message` naming the store and the server.
   */
  async isHealthy<const Key extends string = 'session'>(
    key: Key = 'session' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const check = this.indicators.check(key);
    const probe = await probeStore(this.store, this.options.timeout);
    const details = {
      store: probe.store,
      check: probe.check,
      latencyMs: probe.latencyMs,
      ...(probe.nodes && { nodes: probe.nodes }),
    };
    if (probe.ok) return check.up(details);
    return check.down({
      ...details,
      message: `${probe.store} is unavailable: ${probe.error ?? 'no answer'}`,
      ...(probe.nodes && { failedNodes: probe.nodes.filter((n) => !n.ok).map((n) => n.node) }),
    });
  }
}
