/**
 * Load, short form (CI): 50 concurrent clients, each with its own session, mixing reads, writes,
 * regenerates and destroys against a Nest app on RedisStore, with the private redis-server killed
 * and restarted in the middle. Bounded to ~15 s, loopback only. The full-size run is
 * `npm run load` (bench/load.ts). See test/support/security-load.ts for what is checked.
 */
import { formatLoadReport, runLoad } from '../support/security-load';

describe('load with a Redis restart in the middle (short form)', () => {
  it('no crash, no hung request, no acknowledged write lost, no session seen by another client', async () => {
    const report = await runLoad({
      clients: 50,
      durationMs: 10_000,
      restartAtMs: 3000,
      downMs: 3000,
      requestTimeoutMs: 10_000,
    });
    console.log(formatLoadReport(report));

    expect(report.crashes).toBe(0);
    expect(report.hung).toBe(0);
    expect(report.networkErrors).toBe(0);
    expect(report.lostWrites).toBe(0);
    expect(report.leaks).toBe(0);
    expect(report.phantomValues).toBe(0);
    expect(report.inconsistent).toBe(0);
    // Non-2xx answers (during the outage) must all be 503 with Retry-After.
    expect(report.badFailures).toBe(0);
    expect(report.problems).toEqual([]);
    expect(report.acknowledgedWrites).toBeGreaterThan(100);
    expect(Number.isNaN(report.redisUpAtMs)).toBe(false);
  }, 40_000);
});
