/**
 * `npm run load`: the full-size load run (see test/support/security-load.ts): many concurrent
 * clients, each with its own session, mixing reads, writes, regenerates and destroys against a
 * Nest app on RedisStore with a private redis-server restarted once in the middle. Loopback only.
 *
 *   npm run load -- [--clients 200] [--duration 60] [--restart-at 20] [--down 3] [--timeout 15]
 *
 * (seconds). Prints the figures; exits 1 when a request hung, a write acknowledged to a client was
 * lost, a session was visible to another client, the process saw a crash-level error, or a
 * non-2xx answer was anything but 503 with Retry-After.
 */
import { formatLoadReport, runLoad } from '../test/support/security-load';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

async function main(): Promise<void> {
  const durationS = arg('duration', 60);
  const report = await runLoad({
    clients: arg('clients', 200),
    durationMs: durationS * 1000,
    restartAtMs: arg('restart-at', durationS / 3) * 1000,
    downMs: arg('down', 3) * 1000,
    requestTimeoutMs: arg('timeout', 15) * 1000,
    log: (line) => console.log(line),
  });
  console.log(formatLoadReport(report));
  const failed =
    report.crashes +
    report.hung +
    report.networkErrors +
    report.lostWrites +
    report.leaks +
    report.phantomValues +
    report.inconsistent +
    report.badFailures;
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
