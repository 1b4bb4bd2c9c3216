/**
 * `npm run failover`: the full-size failover run (see test/support/failover-load.ts). For each
 * scenario, a Nest app on RedisStore, many clients each incrementing a counter in its own session,
 * and one forced failover of a private Sentinel setup or Cluster; then every session is read back
 * once the topology is at rest. Loopback only.
 *
 *   npm run failover -- [--clients 200] [--duration 20] [--failover-at 5] [--only <text>]
 *
 * (seconds; `--only` runs the scenarios whose title contains the text). The first two scenarios
 * are the baselines: an ioredis Sentinel client as most apps configure it, without and with
 * ioredis's `failoverDetector`, and the store's failover watch turned off. Prints one block per
 * scenario; exits 1 when a request hung, the process crashed, a failure was anything but a 503
 * with Retry-After, or a scenario that must lose nothing lost an acknowledged write.
 */
import type { RedisOptions } from 'ioredis';
import type { RedisStoreOptions } from '../lib';
import {
  type FailoverLoadReport,
  formatFailoverReport,
  runFailoverLoad,
} from '../test/support/failover-load';
import { startRedisCluster } from '../test/support/redis-server';
import { startRedisSentinel } from '../test/support/redis-sentinel';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

interface Scenario {
  title: string;
  topology: 'sentinel' | 'cluster';
  mode: 'graceful' | 'kill';
  replicas: number;
  store: Omit<RedisStoreOptions, 'client' | 'prefix'>;
  client?: RedisOptions;
  /** Whether the scenario promises that no acknowledged write is lost. */
  lossless: boolean;
}

const SCENARIOS: Scenario[] = [
  {
    title: 'Sentinel, SENTINEL FAILOVER, watchSentinels: false (baseline)',
    topology: 'sentinel',
    mode: 'graceful',
    replicas: 1,
    store: { watchSentinels: false },
    lossless: false,
  },
  {
    title: 'Sentinel, SENTINEL FAILOVER, watchSentinels: false + ioredis failoverDetector',
    topology: 'sentinel',
    mode: 'graceful',
    replicas: 1,
    store: { watchSentinels: false },
    client: { failoverDetector: true },
    lossless: false,
  },
  {
    title: 'Sentinel, SENTINEL FAILOVER, defaults',
    topology: 'sentinel',
    mode: 'graceful',
    replicas: 1,
    store: {},
    lossless: true,
  },
  {
    title: 'Sentinel, primary killed, defaults',
    topology: 'sentinel',
    mode: 'kill',
    replicas: 1,
    store: {},
    lossless: false,
  },
  {
    title: 'Sentinel (2 replicas), SENTINEL FAILOVER, waitReplicas: 1',
    topology: 'sentinel',
    mode: 'graceful',
    replicas: 2,
    store: { waitReplicas: 1 },
    lossless: true,
  },
  {
    title: 'Sentinel (2 replicas), primary killed, waitReplicas: 1',
    topology: 'sentinel',
    mode: 'kill',
    replicas: 2,
    store: { waitReplicas: 1 },
    lossless: true,
  },
  {
    title: 'Cluster (3 masters + 3 replicas), master killed, defaults',
    topology: 'cluster',
    mode: 'kill',
    replicas: 1,
    store: {},
    lossless: false,
  },
  {
    title: 'Cluster (3 masters + 3 replicas), master killed, waitReplicas: 1',
    topology: 'cluster',
    mode: 'kill',
    replicas: 1,
    store: { waitReplicas: 1 },
    lossless: true,
  },
];

async function runScenario(s: Scenario, options: Parameters<typeof runFailoverLoad>[1]) {
  if (s.topology === 'cluster') {
    const cluster = await startRedisCluster({ replicas: s.replicas });
    try {
      const client = cluster.cluster();
      client.on('error', () => undefined);
      return await runFailoverLoad(
        {
          client,
          prefix: cluster.prefix,
          failover: () => cluster.killMasterOf(`${cluster.prefix}any`),
        },
        { ...options, store: s.store },
      );
    } finally {
      await cluster.stop();
    }
  }
  const sentinel = await startRedisSentinel({ replicas: s.replicas });
  try {
    const client = sentinel.client(s.client);
    client.on('error', () => undefined);
    return await runFailoverLoad(
      {
        client,
        prefix: sentinel.prefix,
        failover: () => (s.mode === 'kill' ? sentinel.killPrimary() : sentinel.failover()),
        settled: () => sentinel.settled(),
      },
      { ...options, store: s.store },
    );
  } finally {
    await sentinel.stop();
  }
}

function failed(s: Scenario, r: FailoverLoadReport): boolean {
  const broken = r.crashes + r.hung + r.networkErrors + r.badFailures > 0;
  return broken || (s.lossless && r.lostWrites > 0);
}

async function main(): Promise<void> {
  const only = process.argv.includes('--only')
    ? String(process.argv[process.argv.indexOf('--only') + 1])
    : '';
  const options = {
    clients: arg('clients', 200),
    durationMs: arg('duration', 20) * 1000,
    failoverAtMs: arg('failover-at', 5) * 1000,
    requestTimeoutMs: 15_000,
  };
  let exit = 0;
  for (const scenario of SCENARIOS.filter((s) => s.title.includes(only))) {
    const report = await runScenario(scenario, options);
    console.log(formatFailoverReport(scenario.title, report));
    if (failed(scenario, report)) exit = 1;
  }
  process.exit(exit);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
