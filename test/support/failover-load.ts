/**
 * The failover run shared by test/e2e/redis-failover.e2e-spec.ts (short form, CI) and
 * bench/failover.ts (full size, `npm run failover`): a Nest app on RedisStore, many clients each
 * incrementing a counter in its own session (one request at a time, strict writes), and a Redis
 * failover in the middle: Sentinel (`SENTINEL FAILOVER`, or the primary killed) or Cluster (a
 * master killed, its replica promoted). Loopback only.
 *
 * A client's counter only ever grows by one per acknowledged increment, so a write is lost when a
 * later answer (or the final read) shows a counter below the last one acknowledged. Measured:
 * requests, failures (each must be a 503 with Retry-After), hung requests, the longest time a
 * client saw only failures, the recovery time (failover start → the last failure), acknowledged
 * writes, and acknowledged writes lost.
 */
import 'reflect-metadata';
import { Controller, Get, HttpCode, type INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Cluster, Redis } from 'ioredis';
import { RedisStore, type RedisStoreOptions, Session, SessionModule } from '../../lib';

type Counter = { counter?: number };

@Controller('counter')
class CounterController {
  @Post()
  @HttpCode(200)
  increment(@Session() session: Counter) {
    session.counter = (session.counter ?? 0) + 1;
    return { counter: session.counter };
  }

  @Get()
  read(@Session() session: Counter) {
    return { counter: session.counter ?? 0 };
  }
}

/** What the run fails over. */
export interface FailoverTarget {
  /** The client the app's RedisStore uses (the harness disconnects none of it). */
  client: Redis | Cluster;
  /** Key prefix for the run. */
  prefix: string;
  /** Forces the failover; resolves when the topology has a new primary. */
  failover(): Promise<unknown>;
  /** Resolves once the topology is at rest (old primary demoted), before the final reads. */
  settled?(): Promise<void>;
}

export interface FailoverLoadOptions {
  /** Concurrent clients, each with its own session. */
  clients: number;
  /** Length of the whole run (ms). */
  durationMs: number;
  /** When, from the start, the failover is forced (ms). */
  failoverAtMs: number;
  /** A request not answered within this is counted as hung (ms). */
  requestTimeoutMs: number;
  /** Options for the RedisStore (besides `client` and `prefix`). */
  store?: Omit<RedisStoreOptions, 'client' | 'prefix'>;
  /** Progress messages. */
  log?: (line: string) => void;
}

export interface FailoverLoadReport {
  clients: number;
  elapsedMs: number;
  requests: number;
  statuses: Record<string, number>;
  /** Increments answered 200. */
  acknowledgedWrites: number;
  /** Acknowledged increments missing from a later answer or from the final read. */
  lostWrites: number;
  /** Sessions that lost at least one acknowledged increment. */
  sessionsWithLoss: number;
  /** Failures that were not 503 with Retry-After. */
  badFailures: number;
  hung: number;
  networkErrors: number;
  crashes: number;
  /** The longest time one client saw only failures (ms). */
  longestFailureWindowMs: number;
  /** From the failover's start to the last failed request (0 when none failed). */
  recoveryMs: number;
  /** How long the failover command took to see a new primary (ms). */
  failoverTookMs: number;
  maxLatencyMs: number;
  problems: string[];
}

class Client {
  cookie: string | undefined;
  acked = 0;
  lost = 0;
  failingSince: number | undefined;
  constructor(readonly name: string) {}
}

async function bootApp(target: FailoverTarget, options: FailoverLoadOptions) {
  const store = new RedisStore({ ...options.store, client: target.client, prefix: target.prefix });
  store.on('warning', () => undefined);
  @Module({
    imports: [
      SessionModule.forRoot({
        secret: randomBytes(32).toString('hex'),
        store,
        cookie: { maxAge: 600_000 },
        onError: () => undefined,
      }),
    ],
    controllers: [CounterController],
  })
  class FailoverModule {}
  const moduleRef = await Test.createTestingModule({ imports: [FailoverModule] }).compile();
  const app: INestApplication = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, url: `http://127.0.0.1:${port}` };
}

/** Runs the load with one forced failover; never throws for what it measures. */
export async function runFailoverLoad(
  target: FailoverTarget,
  options: FailoverLoadOptions,
): Promise<FailoverLoadReport> {
  const log = options.log ?? (() => undefined);
  const report: FailoverLoadReport = {
    clients: options.clients,
    elapsedMs: 0,
    requests: 0,
    statuses: {},
    acknowledgedWrites: 0,
    lostWrites: 0,
    sessionsWithLoss: 0,
    badFailures: 0,
    hung: 0,
    networkErrors: 0,
    crashes: 0,
    longestFailureWindowMs: 0,
    recoveryMs: 0,
    failoverTookMs: 0,
    maxLatencyMs: 0,
    problems: [],
  };
  const problem = (text: string) => {
    if (report.problems.length < 20) report.problems.push(text);
  };
  const onCrash = (err: unknown) => {
    report.crashes++;
    problem(`process-level error: ${err instanceof Error ? err.stack : String(err)}`);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  const { app, url } = await bootApp(target, options);
  const started = Date.now();
  const deadline = started + options.durationMs;
  let failoverStartedAt = Number.NaN;
  let lastFailureAt = Number.NaN;

  async function send(client: Client, method: 'GET' | 'POST') {
    const t0 = Date.now();
    report.requests++;
    const count = (status: string) =>
      (report.statuses[status] = (report.statuses[status] ?? 0) + 1);
    try {
      const res = await fetch(`${url}/counter`, {
        method,
        headers: client.cookie ? { cookie: client.cookie } : {},
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      });
      const text = await res.text();
      report.maxLatencyMs = Math.max(report.maxLatencyMs, Date.now() - t0);
      count(String(res.status));
      for (const line of res.headers.getSetCookie()) {
        if (line.startsWith('sid=')) client.cookie = line.split(';')[0];
      }
      if (res.status !== 200) {
        if (res.status !== 503 || !res.headers.get('retry-after')) {
          report.badFailures++;
          problem(`${client.name}: ${res.status} ${text.slice(0, 200)}`);
        }
        return undefined;
      }
      return (JSON.parse(text) as { counter: number }).counter;
    } catch (err) {
      report.maxLatencyMs = Math.max(report.maxLatencyMs, Date.now() - t0);
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        report.hung++;
        count('hung');
        problem(`${client.name}: no answer within ${options.requestTimeoutMs} ms`);
      } else {
        report.networkErrors++;
        count('network-error');
        problem(`${client.name}: ${(err as Error).message}`);
      }
      return undefined;
    }
  }

  /** A counter seen after `acked` acknowledged increments must be at least `acked`. */
  function observe(client: Client, counter: number, incremented: boolean) {
    const floor = incremented ? client.acked + 1 : client.acked;
    if (counter < floor) {
      const lost = floor - counter;
      if (client.lost === 0) report.sessionsWithLoss++;
      client.lost += lost;
      report.lostWrites += lost;
      problem(`${client.name}: counter ${counter} after ${client.acked} acknowledged increments`);
    }
  }

  async function drive(client: Client) {
    while (Date.now() < deadline) {
      const counter = await send(client, 'POST');
      const now = Date.now();
      if (counter === undefined) {
        lastFailureAt = now;
        client.failingSince ??= now;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (client.failingSince !== undefined) {
        report.longestFailureWindowMs = Math.max(
          report.longestFailureWindowMs,
          now - client.failingSince,
        );
        client.failingSince = undefined;
      }
      observe(client, counter, true);
      client.acked = counter;
      report.acknowledgedWrites++;
    }
  }

  const clients = Array.from({ length: options.clients }, (_, i) => new Client(`client-${i}`));
  const failover = (async () => {
    await new Promise((r) => setTimeout(r, options.failoverAtMs));
    failoverStartedAt = Date.now();
    log(`failover at ${failoverStartedAt - started} ms`);
    await target.failover();
    report.failoverTookMs = Date.now() - failoverStartedAt;
    log(`new primary after ${report.failoverTookMs} ms`);
  })();
  await Promise.all([...clients.map((c) => drive(c)), failover]);

  // The final read of every session, once the topology has settled.
  await target.settled?.();
  for (const client of clients) {
    let counter: number | undefined;
    for (let attempt = 0; attempt < 50 && counter === undefined; attempt++) {
      counter = await send(client, 'GET');
      if (counter === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    if (counter === undefined) problem(`${client.name}: the final read never succeeded`);
    else observe(client, counter, false);
  }

  report.elapsedMs = Date.now() - started;
  if (!Number.isNaN(lastFailureAt) && !Number.isNaN(failoverStartedAt)) {
    report.recoveryMs = Math.max(0, lastFailureAt - failoverStartedAt);
  }
  for (const c of clients) {
    if (c.failingSince !== undefined) {
      report.longestFailureWindowMs = Math.max(
        report.longestFailureWindowMs,
        Date.now() - c.failingSince,
      );
    }
  }
  await app.close();
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  return report;
}

/** The report as aligned lines. */
export function formatFailoverReport(title: string, r: FailoverLoadReport): string {
  return [
    title,
    `  clients ${r.clients}, ${r.requests} requests in ${r.elapsedMs} ms, statuses ${JSON.stringify(r.statuses)}`,
    `  acknowledged writes ${r.acknowledgedWrites}, lost ${r.lostWrites} (in ${r.sessionsWithLoss} sessions)`,
    `  failed requests ${Object.entries(r.statuses)
      .filter(([s]) => s !== '200')
      .reduce(
        (n, [, v]) => n + v,
        0,
      )}, bad failures ${r.badFailures}, hung ${r.hung}, network errors ${r.networkErrors}, crashes ${r.crashes}`,
    `  new primary after ${r.failoverTookMs} ms; longest failure window ${r.longestFailureWindowMs} ms; recovery ${r.recoveryMs} ms; max latency ${r.maxLatencyMs} ms`,
    ...r.problems.slice(0, 5).map((p) => `  ! ${p}`),
  ].join('\n');
}
