/**
 * Failover under load, short form (CI): 50 clients each incrementing a counter in its own session
 * (strict writes) against a Nest app on RedisStore, while the Redis topology fails over: a private
 * Sentinel setup (graceful `SENTINEL FAILOVER`, then a killed primary) and a private Cluster with
 * replicas (a killed master). Loopback only. The full-size run, with the baselines that lose
 * writes, is `npm run failover` (bench/failover.ts); test/support/failover-load.ts says what is
 * measured.
 *
 * Everywhere: no hung request, no crash, every failure a 503 with Retry-After. No acknowledged
 * write is lost in a graceful Sentinel failover with the defaults (the store follows the
 * sentinels), nor, with `waitReplicas: 1`, when a primary or a Cluster master is killed.
 * Without `waitReplicas` a crash can lose the writes not yet replicated: reported, not asserted.
 */
import type { RedisStoreOptions } from '../../lib';
import {
  type FailoverLoadReport,
  type FailoverTarget,
  formatFailoverReport,
  runFailoverLoad,
} from '../support/failover-load';
import { startRedisCluster } from '../support/redis-server';
import { startRedisSentinel } from '../support/redis-sentinel';

type StoreOptions = Omit<RedisStoreOptions, 'client' | 'prefix'>;

async function load(title: string, target: FailoverTarget, store: StoreOptions) {
  const report = await runFailoverLoad(target, {
    clients: 50,
    durationMs: 8_000,
    failoverAtMs: 2_000,
    requestTimeoutMs: 10_000,
    store,
  });
  console.log(formatFailoverReport(title, report));
  return report;
}

function expectCleanFailures(report: FailoverLoadReport): void {
  expect(report.crashes).toBe(0);
  expect(report.hung).toBe(0);
  expect(report.networkErrors).toBe(0);
  expect(report.badFailures).toBe(0);
  expect(report.acknowledgedWrites).toBeGreaterThan(100);
}

describe('Sentinel failover under load (1 primary, replicas, 3 sentinels)', () => {
  async function sentinelRun(
    title: string,
    mode: 'graceful' | 'kill',
    replicas: number,
    store: StoreOptions,
  ) {
    const sentinel = await startRedisSentinel({ replicas });
    try {
      const client = sentinel.client();
      client.on('error', () => undefined);
      return await load(
        title,
        {
          client,
          prefix: sentinel.prefix,
          failover: () => (mode === 'kill' ? sentinel.killPrimary() : sentinel.failover()),
          settled: () => sentinel.settled(),
        },
        store,
      );
    } finally {
      await sentinel.stop();
    }
  }

  it('SENTINEL FAILOVER with the defaults: no acknowledged write lost, no request failed', async () => {
    const report = await sentinelRun('Sentinel, graceful, defaults', 'graceful', 1, {});
    expectCleanFailures(report);
    expect(report.lostWrites).toBe(0);
    expect(report.problems).toEqual([]);
  }, 180_000);

  it('primary killed with the defaults: failures are 503s for a bounded time, then it recovers', async () => {
    const report = await sentinelRun('Sentinel, primary killed, defaults', 'kill', 1, {});
    expectCleanFailures(report);
    expect(report.recoveryMs).toBeLessThan(15_000);
  }, 180_000);

  it('primary killed with waitReplicas: 1 (2 replicas): no acknowledged write lost', async () => {
    const report = await sentinelRun('Sentinel, primary killed, waitReplicas 1', 'kill', 2, {
      waitReplicas: 1,
    });
    expectCleanFailures(report);
    expect(report.lostWrites).toBe(0);
  }, 180_000);

  it('SENTINEL FAILOVER with waitReplicas: 1 (2 replicas): no acknowledged write lost', async () => {
    const report = await sentinelRun('Sentinel, graceful, waitReplicas 1', 'graceful', 2, {
      waitReplicas: 1,
    });
    expectCleanFailures(report);
    expect(report.lostWrites).toBe(0);
  }, 180_000);
});

describe('Cluster failover under load (3 masters, a replica each)', () => {
  async function clusterRun(title: string, store: StoreOptions) {
    const cluster = await startRedisCluster({ replicas: 1 });
    try {
      const client = cluster.cluster();
      client.on('error', () => undefined);
      // The master of some client's session: any key of the prefix works, each slot range is
      // one third of the sessions.
      return await load(
        title,
        {
          client,
          prefix: cluster.prefix,
          failover: () => cluster.killMasterOf(`${cluster.prefix}any`),
        },
        store,
      );
    } finally {
      await cluster.stop();
    }
  }

  it('a master killed with the defaults: failures are 503s for a bounded time, then it recovers', async () => {
    const report = await clusterRun('Cluster, master killed, defaults', {});
    expectCleanFailures(report);
    expect(report.recoveryMs).toBeLessThan(15_000);
  }, 180_000);

  it('a master killed with waitReplicas: 1: no acknowledged write lost', async () => {
    const report = await clusterRun('Cluster, master killed, waitReplicas 1', { waitReplicas: 1 });
    expectCleanFailures(report);
    expect(report.lostWrites).toBe(0);
  }, 180_000);
});
