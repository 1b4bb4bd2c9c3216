/**
 * The load run shared by test/e2e/load.e2e-spec.ts (short form, CI) and bench/load.ts (full size,
 * `npm run load`): a Nest app on RedisStore with a private redis-server, many concurrent clients
 * (each with its own session) mixing reads, writes, regenerates and destroys, and Redis restarted
 * once in the middle. Loopback only.
 *
 * Each client checks every answer it gets:
 * - lost writes: a write answered 2xx must be in the client's later reads (until it destroys or
 *   regenerates its session);
 * - cross-session leaks: a session showing another client's owner or values;
 * - hung requests: no answer within the per-request timeout;
 * - failures: a non-2xx answer must be 503 with `Retry-After`.
 *
 * The redis-server of the harness runs without persistence: a SIGKILL restart would wipe every
 * session, which is Redis's doing, not the library's. So just before the kill the run pauses
 * writes (`CLIENT PAUSE … WRITE`: no write can complete, hence none can be acknowledged) and
 * snapshots (`SAVE`); the restarted server loads the snapshot. Everything acknowledged before the
 * kill must therefore still be there.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  RedisStore,
  type RequestSession,
  Session,
  SessionModule,
  type SessionRequest,
} from '../../lib';
import { type RedisHandle, startRedis } from './redis-server';

type Bag = Record<string, unknown>;
type Op = 'read' | 'write' | 'regenerate' | 'destroy';
const OPS: readonly Op[] = ['read', 'write', 'regenerate', 'destroy'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function view(session: RequestSession | null | undefined) {
  const s = (session ?? {}) as unknown as Bag;
  return {
    id: session?.id ?? null,
    owner: (s.owner as string | undefined) ?? null,
    counter: (s.counter as number | undefined) ?? 0,
    list: (s.list as number[] | undefined) ?? [],
  };
}

@Controller('load')
class LoadController {
  @Get('state')
  state(@Req() req: SessionRequest) {
    return view(req.session);
  }

  @Post('write')
  @HttpCode(200)
  write(
    @Session() session: RequestSession,
    @Query('client') client: string,
    @Query('seq') seq: string,
  ) {
    const s = session as unknown as Bag;
    if (s.owner === undefined) s.owner = client;
    s.counter = ((s.counter as number | undefined) ?? 0) + 1;
    s.list = [...((s.list as number[] | undefined) ?? []), Number(seq)];
    return view(session);
  }

  @Post('regenerate')
  @HttpCode(200)
  async regenerate(@Req() req: SessionRequest, @Query('client') client: string) {
    await (req.session as RequestSession).regenerate();
    const s = req.session as unknown as Bag;
    s.owner = client;
    s.counter = 0;
    s.list = [];
    return view(req.session);
  }

  @Post('destroy')
  @HttpCode(200)
  async destroy(@Req() req: SessionRequest) {
    await (req.session as RequestSession).destroy();
    return { destroyed: true };
  }
}

export interface LoadOptions {
  /** Concurrent clients (each with its own session). */
  clients: number;
  /** Length of the mixed-traffic phase (ms). */
  durationMs: number;
  /** When, from the start, Redis is killed (ms). */
  restartAtMs: number;
  /** How long Redis stays down (ms). */
  downMs: number;
  /** A request not answered within this is counted as hung (ms). */
  requestTimeoutMs: number;
  /** Progress messages. */
  log?: (line: string) => void;
}

export interface LoadReport {
  options: Omit<LoadOptions, 'log'>;
  elapsedMs: number;
  requests: number;
  statuses: Record<string, number>;
  byOperation: Record<string, Record<string, number>>;
  acknowledgedWrites: number;
  lostWrites: number;
  leaks: number;
  phantomValues: number;
  inconsistent: number;
  hung: number;
  networkErrors: number;
  /** Non-2xx answers that were not 503 with Retry-After. */
  badFailures: number;
  crashes: number;
  maxLatencyMs: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  redisDownAtMs: number;
  redisUpAtMs: number;
  /** The first problems seen, described. */
  problems: string[];
}

/** One client's view of its session. */
class Client {
  cookie: string | undefined;
  acked = new Set<number>();
  unknown = new Set<number>();
  uncertain = false;
  seq = 0;
  constructor(
    readonly name: string,
    readonly index: number,
  ) {}
  nextSeq(): number {
    return this.index * 1_000_000 + ++this.seq;
  }
  owns(value: number): boolean {
    return Math.floor(value / 1_000_000) === this.index;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function bootApp(redis: RedisHandle): Promise<{ app: INestApplication; url: string }> {
  const client = redis.client();
  client.on('error', () => undefined);
  const store = new RedisStore({ client, prefix: redis.prefix });
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
    controllers: [LoadController],
  })
  class LoadModule {}
  const moduleRef = await Test.createTestingModule({ imports: [LoadModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, url: `http://127.0.0.1:${port}` };
}

/** Runs the load and returns the figures (never throws for what it measures). */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const log = options.log ?? (() => undefined);
  const report: LoadReport = {
    options: {
      clients: options.clients,
      durationMs: options.durationMs,
      restartAtMs: options.restartAtMs,
      downMs: options.downMs,
      requestTimeoutMs: options.requestTimeoutMs,
    },
    elapsedMs: 0,
    requests: 0,
    statuses: {},
    byOperation: Object.fromEntries(OPS.map((op) => [op, {}])),
    acknowledgedWrites: 0,
    lostWrites: 0,
    leaks: 0,
    phantomValues: 0,
    inconsistent: 0,
    hung: 0,
    networkErrors: 0,
    badFailures: 0,
    crashes: 0,
    maxLatencyMs: 0,
    p50LatencyMs: 0,
    p99LatencyMs: 0,
    redisDownAtMs: NaN,
    redisUpAtMs: NaN,
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

  const redis = await startRedis({ requirePrivate: true });
  const { app, url } = await bootApp(redis);
  const latencies: number[] = [];
  const started = Date.now();
  const deadline = started + options.durationMs;

  async function send(client: Client, op: Op | 'final', path: string, method: string) {
    const t0 = Date.now();
    report.requests++;
    const opKey = op === 'final' ? 'read' : op;
    const count = (status: string) => {
      report.statuses[status] = (report.statuses[status] ?? 0) + 1;
      const bucket = report.byOperation[opKey] as Record<string, number>;
      bucket[status] = (bucket[status] ?? 0) + 1;
    };
    try {
      const res = await fetch(url + path, {
        method,
        headers: client.cookie ? { cookie: client.cookie } : {},
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      });
      const text = await res.text();
      const ms = Date.now() - t0;
      latencies.push(ms);
      report.maxLatencyMs = Math.max(report.maxLatencyMs, ms);
      count(String(res.status));
      const body = (() => {
        try {
          return JSON.parse(text) as Bag;
        } catch {
          return {};
        }
      })();
      return { status: res.status, headers: res.headers, body };
    } catch (err) {
      const ms = Date.now() - t0;
      report.maxLatencyMs = Math.max(report.maxLatencyMs, ms);
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        report.hung++;
        count('hung');
        problem(`${client.name} ${op} ${path}: no answer within ${options.requestTimeoutMs} ms`);
      } else {
        report.networkErrors++;
        count('network-error');
        problem(`${client.name} ${op} ${path}: ${String((err as Error).message)}`);
      }
      return undefined;
    }
  }

  /** Checks a session view against what the client knows; resynchronizes. */
  function check(client: Client, op: string, body: Bag, justWritten?: number) {
    const owner = body.owner as string | null;
    const list = Array.isArray(body.list) ? (body.list as number[]) : [];
    if (owner !== null && owner !== client.name) {
      report.leaks++;
      problem(`${client.name} ${op}: saw the session of ${owner} (${String(body.id)})`);
    }
    const foreign = list.filter((v) => !client.owns(v));
    if (foreign.length > 0) {
      report.leaks++;
      problem(`${client.name} ${op}: saw other clients' values ${foreign.slice(0, 3).join(',')}`);
    }
    if (body.counter !== list.length) {
      report.inconsistent++;
      problem(`${client.name} ${op}: counter ${String(body.counter)} but ${list.length} values`);
    }
    const present = new Set(list);
    if (owner === null && !client.uncertain) {
      if (client.acked.size > 0) {
        report.lostWrites += client.acked.size;
        problem(`${client.name} ${op}: session gone with ${client.acked.size} acknowledged writes`);
      }
    } else if (owner !== null && !(client.uncertain && list.every((v) => v === justWritten))) {
      // (after a failed regenerate/destroy, a fresh session is as valid as the old one)
      const missing = [...client.acked].filter((v) => !present.has(v));
      if (missing.length > 0) {
        report.lostWrites += missing.length;
        problem(
          `${client.name} ${op}: acknowledged writes missing: ${missing.slice(0, 5).join(',')}`,
        );
      }
      const phantom = list.filter(
        (v) =>
          client.owns(v) && !client.acked.has(v) && !client.unknown.has(v) && v !== justWritten,
      );
      if (phantom.length > 0) {
        report.phantomValues += phantom.length;
        problem(`${client.name} ${op}: values never written: ${phantom.slice(0, 5).join(',')}`);
      }
    }
    client.acked = new Set(list.filter((v) => client.owns(v)));
    client.uncertain = false;
  }

  function takeCookie(client: Client, headers: Headers) {
    for (const line of headers.getSetCookie()) {
      if (!line.startsWith('sid=')) continue;
      const pair = line.split(';')[0] as string;
      client.cookie = pair === 'sid=' ? undefined : pair;
    }
  }

  async function step(client: Client, op: Op) {
    const seq = op === 'write' ? client.nextSeq() : 0;
    const path =
      op === 'read'
        ? '/load/state'
        : op === 'write'
          ? `/load/write?client=${client.name}&seq=${seq}`
          : op === 'regenerate'
            ? `/load/regenerate?client=${client.name}`
            : '/load/destroy';
    const res = await send(client, op, path, op === 'read' ? 'GET' : 'POST');
    if (!res) {
      if (op === 'write') client.unknown.add(seq);
      else if (op !== 'read') client.uncertain = true;
      return;
    }
    if (res.status < 200 || res.status >= 300) {
      if (res.status !== 503 || !res.headers.get('retry-after')) {
        report.badFailures++;
        problem(`${client.name} ${op}: ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
      }
      if (op === 'write') client.unknown.add(seq);
      else if (op !== 'read') client.uncertain = true;
      return;
    }
    takeCookie(client, res.headers);
    if (op === 'write') {
      const list = (res.body.list as number[] | undefined) ?? [];
      if (!list.includes(seq)) {
        report.lostWrites++;
        problem(`${client.name} write: answer 2xx without the value ${seq}`);
      }
      check(client, op, res.body, seq);
      report.acknowledgedWrites++;
    } else if (op === 'read') {
      check(client, op, res.body);
    } else {
      if (op === 'regenerate' && res.body.owner !== client.name) {
        report.leaks++;
        problem(`${client.name} regenerate: answered with owner ${String(res.body.owner)}`);
      }
      client.acked = new Set();
      client.unknown = new Set();
      client.uncertain = false;
      if (op === 'destroy') client.cookie = undefined;
    }
  }

  function pick(): Op {
    const r = Math.random();
    return r < 0.4 ? 'read' : r < 0.85 ? 'write' : r < 0.93 ? 'regenerate' : 'destroy';
  }

  const clients = Array.from({ length: options.clients }, (_, i) => new Client(`c${i + 1}`, i + 1));
  const restart = (async () => {
    await sleep(options.restartAtMs);
    const admin = redis.client({ maxRetriesPerRequest: 0 });
    admin.on('error', () => undefined);
    try {
      await admin.call('CLIENT', 'PAUSE', String(options.downMs + 5000), 'WRITE');
      await admin.save();
    } catch (err) {
      problem(`could not snapshot before the restart: ${String(err)}`);
    }
    admin.disconnect();
    await redis.down();
    report.redisDownAtMs = Date.now() - started;
    log(`load: redis down at ${report.redisDownAtMs} ms`);
    await sleep(options.downMs);
    await redis.up();
    report.redisUpAtMs = Date.now() - started;
    log(`load: redis up at ${report.redisUpAtMs} ms`);
  })();

  try {
    await Promise.all([
      restart,
      ...clients.map(async (client) => {
        while (Date.now() < deadline) await step(client, pick());
      }),
    ]);
    // Final reads (Redis is back): everything acknowledged must be there.
    await Promise.all(
      clients.map(async (client) => {
        for (let attempt = 0; attempt < 5; attempt++) {
          const res = await send(client, 'final', '/load/state', 'GET');
          if (res && res.status === 200) {
            check(client, 'final read', res.body);
            return;
          }
          if (res && (res.status !== 503 || !res.headers.get('retry-after'))) {
            report.badFailures++;
            problem(`${client.name} final read: ${res.status}`);
          }
          await sleep(500);
        }
        problem(`${client.name}: no successful final read`);
        report.lostWrites += client.acked.size;
      }),
    );
  } finally {
    report.elapsedMs = Date.now() - started;
    latencies.sort((a, b) => a - b);
    report.p50LatencyMs = percentile(latencies, 50);
    report.p99LatencyMs = percentile(latencies, 99);
    await app.close().catch(() => undefined);
    await redis.stop();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
  return report;
}

/** The report as text. */
export function formatLoadReport(r: LoadReport): string {
  const o = r.options;
  const fmt = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || '-';
  return [
    `load: ${o.clients} clients, ${(o.durationMs / 1000).toFixed(1)} s of traffic, Redis killed at ` +
      `${r.redisDownAtMs} ms and back at ${r.redisUpAtMs} ms (${(r.elapsedMs / 1000).toFixed(1)} s in all)`,
    `requests: ${r.requests} (${Math.round((r.requests * 1000) / r.elapsedMs)}/s); statuses: ${fmt(r.statuses)}`,
    ...OPS.map((op) => `  ${op}: ${fmt(r.byOperation[op] ?? {})}`),
    `acknowledged writes: ${r.acknowledgedWrites}; lost writes: ${r.lostWrites}; cross-session leaks: ${r.leaks}; ` +
      `phantom values: ${r.phantomValues}; inconsistent sessions: ${r.inconsistent}`,
    `hung requests: ${r.hung} (timeout ${o.requestTimeoutMs} ms); network errors: ${r.networkErrors}; ` +
      `non-2xx other than 503+Retry-After: ${r.badFailures}; process crashes: ${r.crashes}`,
    `latency: p50 ${r.p50LatencyMs} ms, p99 ${r.p99LatencyMs} ms, max ${r.maxLatencyMs} ms`,
    ...(r.problems.length > 0
      ? ['problems (first 20):', ...r.problems.map((p) => `  - ${p}`)]
      : []),
  ].join('\n');
}
