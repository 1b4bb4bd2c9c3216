/**
 * The benchmark runner (`npm run bench`, `npm run bench -- --quick`).
 *
 * Starts every server variant as a child process on 127.0.0.1 (a free port each), a private
 * redis-server and a three-master Redis Cluster on free ports, and loads them with autocannon
 * (32 connections, loopback only, bounded duration). Variants of a scenario are interleaved
 * round-robin (the order rotates each round) so that machine drift cancels; the table shows
 * medians over the rounds. Writes bench/RESULTS.md and prints the same table.
 *
 * Options: `--quick` (one short round), `--rounds N`, `--duration S`, `--warmup S`,
 * `--scenarios S1-memory,S2-redis,...`, `--variants id,id,...`, `--no-cluster`,
 * `--no-memory`, `--out FILE` (default bench/RESULTS.md; `-` writes nothing; the file's
 * hand-written "Where the µs go" section, from its heading on, is kept),
 * `--cells S2-memory:nest-ns-memory,S4-redis` (only these cells: `scenario:variant`, or a whole
 * scenario; each cell's bare server of the same framework runs too, for the ratios),
 * `--cpu-prof DIR` (servers run with `node --cpu-prof`, profiles written to DIR),
 * `--heap-prof DIR` (allocation sampling of each server, garbage included: `.heapprofile` files
 * in DIR, summarized by `heap-summary.js`),
 * `--node-args "--trace-gc ..."` (extra Node flags for the servers, e.g. `--heap-prof`).
 */
import autocannon from 'autocannon';
import { fork, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import {
  type RedisClusterHandle,
  type RedisHandle,
  startRedis,
  startRedisCluster,
} from '../test/support/redis-server';
import { variant, type ChildMessage, type VariantInfo } from './variants';

// ---------------------------------------------------------------- options

interface Options {
  quick: boolean;
  rounds: number;
  duration: number;
  warmup: number;
  pool: number;
  scenarios: string[] | undefined;
  variants: string[] | undefined;
  cluster: boolean;
  memory: boolean;
  memoryCount: number;
  out: string | undefined;
  cpuProf: string | undefined;
  /** `--heap-prof DIR`: allocation sampling of each server (garbage included), written to DIR. */
  heapProf: string | undefined;
  /** `--cells`: scenario id → the variants to run (`undefined`: all of its variants). */
  cells: Map<string, Set<string> | undefined> | undefined;
  cellsText: string | undefined;
  /** Extra Node flags for the server processes (`--node-args`). */
  nodeArgs: string[];
}

/** Parses `--cells S1-memory:nest-ns-memory,S2-redis,...`. */
function parseCells(text: string | undefined): Options['cells'] {
  if (text === undefined) return undefined;
  const cells = new Map<string, Set<string> | undefined>();
  for (const item of text.split(',').filter(Boolean)) {
    const [scenario, id] = item.split(':') as [string, string | undefined];
    if (!SCENARIOS.some((s) => s.id === scenario))
      throw new Error(`--cells: unknown scenario ${scenario}`);
    if (id === undefined) {
      cells.set(scenario, undefined);
      continue;
    }
    variant(id);
    if (cells.has(scenario) && cells.get(scenario) === undefined) continue;
    const set = cells.get(scenario) ?? new Set<string>();
    set.add(id);
    cells.set(scenario, set);
  }
  return cells;
}

const ROOT = resolve(__dirname, '..', '..');

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (name: string) => value(name)?.split(',').filter(Boolean);
  const out = value('--out') ?? join(ROOT, 'bench', 'RESULTS.md');
  return {
    quick,
    rounds: Number(value('--rounds') ?? (quick ? 1 : 5)),
    duration: Number(value('--duration') ?? (quick ? 1.5 : 4)),
    warmup: Number(value('--warmup') ?? (quick ? 0.5 : 1)),
    pool: quick ? 64 : 256,
    scenarios: list('--scenarios'),
    variants: list('--variants'),
    cluster: !argv.includes('--no-cluster'),
    memory: !argv.includes('--no-memory'),
    memoryCount: Number(value('--memory-count') ?? 100_000),
    out: out === '-' ? undefined : resolve(out),
    cpuProf: value('--cpu-prof'),
    heapProf: value('--heap-prof'),
    cells: parseCells(value('--cells')),
    cellsText: value('--cells'),
    nodeArgs: (value('--node-args') ?? '').split(' ').filter(Boolean),
  };
}

// ---------------------------------------------------------------- scenarios

interface Scenario {
  id: string;
  label: string;
  path: string;
  /** Requests carry an existing session's cookie. */
  cookie: boolean;
  variants: string[];
}

const MEMORY_VARIANTS = [
  'nest-bare',
  'nest-es-memory',
  'nest-nestjs-session-memory',
  'nest-ns-memory',
  'express-bare',
  'express-es-memory',
  'express-ns-memory',
  'fastify-bare',
  'fastify-fs-memory',
  'fastify-ns-memory',
];
const REDIS_VARIANTS = [
  'nest-bare',
  'nest-es-redis',
  'nest-nestjs-session-redis',
  'nest-ns-redis',
  'nest-ns-redis-encrypted',
  'nest-ns-cluster',
  'fastify-bare',
  'fastify-fs-redis',
  'fastify-ns-redis',
];

const SCENARIOS: Scenario[] = [
  {
    id: 'S1-memory',
    label: 'S1 no cookie, handler ignores the session (memory)',
    path: '/s1',
    cookie: false,
    variants: MEMORY_VARIANTS,
  },
  {
    id: 'S2-memory',
    label: 'S2 valid cookie, handler reads the session (memory)',
    path: '/s2',
    cookie: true,
    variants: MEMORY_VARIANTS,
  },
  {
    id: 'S2-redis',
    label: 'S2 valid cookie, handler reads the session (Redis)',
    path: '/s2',
    cookie: true,
    variants: REDIS_VARIANTS,
  },
  {
    id: 'S3-redis',
    label: 'S3 valid cookie, handler changes the session (Redis)',
    path: '/s3',
    cookie: true,
    variants: REDIS_VARIANTS,
  },
  {
    id: 'S4-redis',
    label: 'S4 no cookie, handler creates a session (Redis)',
    path: '/s4',
    cookie: false,
    variants: REDIS_VARIANTS,
  },
];

/** Stored sessions are made to look last saved this long ago (a real app's steady state). */
const SESSION_AGE_MS = 10 * 60 * 1000;
const CONNECTIONS = 32;

// ---------------------------------------------------------------- processes

const children = new Set<ChildProcess>();
const redisServers: { killNow(): void }[] = [];

function cleanup(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const server of redisServers.splice(0)) server.killNow();
}

process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    cleanup();
    process.exit(130);
  });
}

class ServerChild {
  port = 0;
  private waiting: ((m: ChildMessage) => void) | undefined;
  /** What the server's `--trace-gc-nvp` lines said so far (see {@link GcCounts}). */
  readonly gc: GcCounts = { scavenges: 0, markCompacts: 0, pauseMs: 0, allocated: 0 };
  /** With `--cpu-prof`: the profile this server writes when it stops. */
  profile: string | undefined;

  private constructor(
    readonly info: VariantInfo,
    readonly child: ChildProcess,
  ) {}

  static async start(
    info: VariantInfo,
    redisArg: string,
    cpuProf: string | undefined,
    nodeArgs: string[],
    heapProf: string | undefined,
  ): Promise<ServerChild> {
    const profileName = `${info.id}-${Date.now()}.cpuprofile`;
    const execArgv = [
      ...(cpuProf
        ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`, `--cpu-prof-name=${profileName}`]
        : []),
      // One line per GC (the runner counts them): kind, pause, bytes allocated since the last.
      '--trace-gc-nvp',
      ...nodeArgs,
    ];
    const child = fork(join(__dirname, 'server.js'), [info.id, redisArg], {
      execArgv,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: {
        ...process.env,
        NODE_ENV: 'production',
        ...(heapProf
          ? { BENCH_HEAP_PROFILE: join(heapProf, `${info.id}-${Date.now()}.heapprofile`) }
          : {}),
      },
    });
    children.add(child);
    const server = new ServerChild(info, child);
    if (cpuProf) server.profile = join(cpuProf, profileName);
    server.readGcTrace();
    child.on('message', (m: ChildMessage) => {
      const waiting = server.waiting;
      server.waiting = undefined;
      waiting?.(m);
    });
    const first = await server.next(30_000);
    if (first.type !== 'ready') {
      throw new Error(`${info.id} failed to start: ${first.type === 'error' ? first.message : ''}`);
    }
    server.port = first.port;
    return server;
  }

  /** Counts the child's `--trace-gc-nvp` lines; anything else it prints goes to our stderr. */
  private readGcTrace(): void {
    let rest = '';
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const kind = / gc=(\w+)/.exec(line)?.[1];
        if (kind === undefined) {
          process.stderr.write(`${line}\n`);
          continue;
        }
        if (kind === 's') this.gc.scavenges++;
        else this.gc.markCompacts++;
        this.gc.pauseMs += Number(/ pause=([\d.]+)/.exec(line)?.[1] ?? 0);
        this.gc.allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0);
      }
    });
  }

  private next(timeout: number): Promise<ChildMessage> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.info.id}: no answer`)), timeout);
      const onExit = (code: number | null) =>
        reject(new Error(`${this.info.id} exited (${code ?? 'signal'})`));
      this.child.once('exit', onExit);
      this.waiting = (m) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        resolvePromise(m);
      };
    });
  }

  async stats(): Promise<Extract<ChildMessage, { type: 'stats' }>> {
    const answer = this.next(10_000);
    this.child.send({ type: 'stats' });
    const m = await answer;
    if (m.type !== 'stats') throw new Error(`${this.info.id}: unexpected ${m.type}`);
    return m;
  }

  /** Graceful stop (lets `--cpu-prof` write its profile), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      return;
    }
    if (this.profile) {
      // Beside the profile: how many requests it covers (profile-summary gives µs per request).
      const { requests } = await this.stats();
      writeFileSync(`${this.profile}.json`, JSON.stringify({ variant: this.info.id, requests }));
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.disconnect();
    await exited;
    clearTimeout(timer);
    children.delete(child);
  }
}

// ---------------------------------------------------------------- HTTP helpers

function get(port: number, path: string): Promise<{ status: number; setCookie: string[] }> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () =>
        resolvePromise({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Signs in `count` sessions through GET /s4 and returns their `name=value` cookies. */
async function makeCookies(port: number, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i += 16) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(16, count - i) }, () => get(port, '/s4')),
    );
    for (const r of batch) {
      const line = r.setCookie[0];
      if (r.status !== 200 || !line) throw new Error(`GET /s4 gave ${r.status} without a cookie`);
      cookies.push(line.split(';')[0] as string);
    }
  }
  return cookies;
}

/** Cookies for a server without sessions: same shape and length, never valid. */
function fakeCookies(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `connect.sid=s%3A${String(i).padStart(32, 'x')}.${'A'.repeat(43)}`,
  );
}

// ---------------------------------------------------------------- Redis

const IGNORED_COMMANDS = new Set([
  'info',
  'ping',
  'cluster',
  'command',
  'client',
  'select',
  'hello',
  'config',
  'readonly',
  'scan',
  'flushall',
]);

interface RedisSide {
  standalone: RedisHandle;
  standaloneClient: Redis;
  cluster: RedisClusterHandle | undefined;
  clusterClients: Redis[];
}

/** Moves every stored session's `cookie.expires` back by SESSION_AGE_MS (TTL kept). */
async function ageSessions(clients: Redis[]): Promise<number> {
  let aged = 0;
  for (const client of clients) {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const raw = await client.get(key);
        if (!raw) continue;
        const record = JSON.parse(raw) as { cookie?: { expires?: string } };
        if (!record.cookie?.expires) continue;
        record.cookie.expires = new Date(
          new Date(record.cookie.expires).getTime() - SESSION_AGE_MS,
        ).toISOString();
        await client.set(key, JSON.stringify(record), 'KEEPTTL');
        aged++;
      }
    } while (cursor !== '0');
  }
  return aged;
}

// ---------------------------------------------------------------- measuring

interface Run {
  scenario: string;
  variant: string;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  total: number;
  errors: number;
  non2xx: number;
  cpuPerRequest: number;
  maxRss: number;
  commands: Record<string, number>;
  /** GCs during the measured run (from `--trace-gc-nvp`), and bytes allocated. */
  gc: GcCounts;
}

/** Garbage collections and allocation, from the server's `--trace-gc-nvp` lines. */
interface GcCounts {
  scavenges: number;
  /** Mark-compact and incremental marking steps (everything but scavenges). */
  markCompacts: number;
  pauseMs: number;
  /** Bytes allocated (the sum of each GC's "allocated since the previous GC"). */
  allocated: number;
}

function load(
  port: number,
  scenario: Scenario,
  cookies: string[],
  seconds: number,
): Promise<autocannon.Result> {
  const requests: autocannon.Request[] = scenario.cookie
    ? cookies.map((cookie) => ({ method: 'GET', path: scenario.path, headers: { cookie } }))
    : [{ method: 'GET', path: scenario.path }];
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests,
  });
}

async function measure(
  server: ServerChild,
  scenario: Scenario,
  cookies: string[],
  round: number,
  options: Options,
): Promise<Run> {
  if (options.warmup > 0) await load(server.port, scenario, cookies, options.warmup);
  const before = await server.stats();
  const gcBefore = { ...server.gc };
  const result = await load(server.port, scenario, cookies, options.duration);
  const after = await server.stats();
  const gcAfter = { ...server.gc };
  const total = result.requests.total;
  // The commands the server's client sent (a script is one command, whatever it runs inside).
  const commands: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after.redisCommands)) {
    if (IGNORED_COMMANDS.has(name)) continue;
    const delta = calls - (before.redisCommands[name] ?? 0);
    if (delta > 0) commands[name] = delta;
  }
  return {
    scenario: scenario.id,
    variant: server.info.id,
    round,
    rps: total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuPerRequest: total > 0 ? (after.cpuMicros - before.cpuMicros) / total : NaN,
    maxRss: after.maxRss,
    commands,
    gc: {
      scavenges: gcAfter.scavenges - gcBefore.scavenges,
      markCompacts: gcAfter.markCompacts - gcBefore.markCompacts,
      pauseMs: gcAfter.pauseMs - gcBefore.pauseMs,
      allocated: gcAfter.allocated - gcBefore.allocated,
    },
  };
}

// ---------------------------------------------------------------- aggregation

function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

interface Cell {
  scenario: Scenario;
  info: VariantInfo;
  rps: number;
  vsBare: number;
  /** Lowest and highest per-round ratio to bare (how much the machine drifted). */
  vsBareRange: [number, number];
  vsExpressSession: number;
  p50: number;
  p99: number;
  cpuPerRequest: number;
  /** Median of per-round CPU µs/req over the bare server's in the same round. */
  cpuVsBare: number;
  /** Scavenges and other GCs per 10,000 requests, GC pause µs per request. */
  gcPer10k: { scavenges: number; markCompacts: number };
  /** Main-thread GC pause per request, µs (GC trace: whole-run sum / requests). */
  gcPausePerRequest: number;
  /** Bytes allocated per request (GC trace: whole-run sum / requests). */
  allocatedPerRequest: number;
  maxRss: number;
  commandsPerRequest: Record<string, number>;
  errors: number;
  rounds: number;
}

/** The bare server of the same framework (Nest on Fastify: bare Nest on Fastify). */
function bareOf(info: VariantInfo): string {
  return `${info.framework}-bare`;
}

/**
 * The reference session library on the same framework and store kind (standalone Redis for the
 * Cluster): express-session, or on Fastify @fastify/session.
 */
function expressSessionOf(info: VariantInfo): string | undefined {
  if (info.store === 'none') return undefined;
  const store = info.store === 'cluster' ? 'redis' : info.store;
  return info.framework === 'fastify' ? `fastify-fs-${store}` : `${info.framework}-es-${store}`;
}

function aggregate(scenario: Scenario, runs: Run[]): Cell[] {
  const mine = runs.filter((r) => r.scenario === scenario.id);
  const byRound = (variantId: string | undefined, round: number) =>
    mine.find((r) => r.variant === variantId && r.round === round);
  const cells: Cell[] = [];
  for (const id of scenario.variants) {
    const list = mine.filter((r) => r.variant === id);
    if (list.length === 0) continue;
    const info = variant(id);
    const ratios = (other: string | undefined) =>
      list.map((r) => {
        const o = byRound(other, r.round);
        return o ? r.rps / o.rps : NaN;
      });
    const ratio = (other: string | undefined) => median(ratios(other));
    const cpuVsBare = median(
      list.map((r) => {
        const o = byRound(bareOf(info), r.round);
        return o ? r.cpuPerRequest / o.cpuPerRequest : NaN;
      }),
    );
    const gcSum = (pick: (g: GcCounts) => number) => list.reduce((s, r) => s + pick(r.gc), 0);
    const bareRatios = ratios(bareOf(info)).filter((v) => !Number.isNaN(v));
    const total = list.reduce((s, r) => s + r.total, 0);
    const commands: Record<string, number> = {};
    for (const r of list) {
      for (const [name, calls] of Object.entries(r.commands)) {
        commands[name] = (commands[name] ?? 0) + calls;
      }
    }
    for (const name of Object.keys(commands)) commands[name] = (commands[name] as number) / total;
    cells.push({
      scenario,
      info,
      rps: median(list.map((r) => r.rps)),
      vsBare: ratio(bareOf(info)),
      vsBareRange:
        bareRatios.length > 0 ? [Math.min(...bareRatios), Math.max(...bareRatios)] : [NaN, NaN],
      vsExpressSession: ratio(expressSessionOf(info)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      cpuPerRequest: median(list.map((r) => r.cpuPerRequest)),
      cpuVsBare,
      gcPer10k: {
        scavenges: (gcSum((g) => g.scavenges) * 10_000) / total,
        markCompacts: (gcSum((g) => g.markCompacts) * 10_000) / total,
      },
      gcPausePerRequest: (gcSum((g) => g.pauseMs) * 1000) / total,
      allocatedPerRequest: gcSum((g) => g.allocated) / total,
      maxRss: Math.max(...list.map((r) => r.maxRss)),
      commandsPerRequest: commands,
      errors: list.reduce((s, r) => s + r.errors + r.non2xx, 0),
      rounds: list.length,
    });
  }
  return cells;
}

// ---------------------------------------------------------------- report

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

function commandsText(commands: Record<string, number>, store: string): string {
  if (store === 'none' || store === 'memory') return '';
  const entries = Object.entries(commands).filter(([, v]) => v >= 0.005);
  if (entries.length === 0) return '0';
  const total = entries.reduce((s, [, v]) => s + v, 0);
  return `${total.toFixed(2)} (${entries
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k.toUpperCase()} ${v.toFixed(2)}`)
    .join(', ')})`;
}

/** The per-round spread of the ratio to bare ('–' for bare itself or a single round). */
function rangeText(c: Cell): string {
  const [low, high] = c.vsBareRange;
  if (c.info.store === 'none' || c.rounds < 2) return '–';
  return `${fmt(low, 2)}–${fmt(high, 2)}`;
}

function table(cells: Cell[]): string {
  const lines = [
    '| scenario | variant | req/s | × bare | × bare, rounds | × express-session (Fastify: × @fastify/session) | p50 ms | p99 ms | CPU µs/req | CPU × bare | GC/10k req (scavenge + other) | GC pause µs/req | alloc KB/req | peak RSS MB | Redis cmds/req | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const c of cells) {
    lines.push(
      `| ${c.scenario.id} | ${c.info.label} | ${fmt(c.rps)} | ${fmt(c.vsBare, 2)} | ${rangeText(c)} | ${fmt(c.vsExpressSession, 2)} | ${fmt(c.p50)} | ${fmt(c.p99)} | ${fmt(c.cpuPerRequest)} | ${c.info.store === 'none' ? '–' : fmt(c.cpuVsBare, 2)} | ${fmt(c.gcPer10k.scavenges, 1)} + ${fmt(c.gcPer10k.markCompacts, 1)} | ${fmt(c.gcPausePerRequest, 1)} | ${fmt(c.allocatedPerRequest / 1024, 1)} | ${fmt(c.maxRss / 1048576)} | ${commandsText(c.commandsPerRequest, c.info.store)} | ${c.errors} |`,
    );
  }
  return lines.join('\n');
}

interface Target {
  text: string;
  met: boolean | undefined;
  detail: string;
}

function targets(cells: Cell[], memory: Record<string, number> | undefined): Target[] {
  const cell = (scenario: string, id: string) =>
    cells.find((c) => c.scenario.id === scenario && c.info.id === id);
  const out: Target[] = [];
  const ratio = (scenario: string, id: string, min: number, label: string) => {
    const c = cell(scenario, id);
    out.push({
      text: `${label}: ${scenario} ${id} ≥ ${min.toFixed(2)} × bare`,
      met: c ? c.vsBare >= min : undefined,
      detail: c ? fmt(c.vsBare, 2) : 'not run',
    });
  };
  const commands = (scenario: string, id: string, max: number) => {
    const c = cell(scenario, id);
    const total = c ? Object.values(c.commandsPerRequest).reduce((s, v) => s + v, 0) : NaN;
    out.push({
      text: `${scenario} ${id}: at most ${max} Redis command(s) per request`,
      met: c ? total <= max + 0.02 : undefined,
      detail: c ? total.toFixed(2) : 'not run',
    });
  };
  const cpu = (scenario: string, id: string, max: number, label: string) => {
    const c = cell(scenario, id);
    out.push({
      text: `${label}: ${scenario} ${id} server CPU/request ≤ ${max.toFixed(2)} × bare`,
      met: c ? c.cpuVsBare <= max : undefined,
      detail: c ? `${fmt(c.cpuVsBare, 2)} (${fmt(c.cpuPerRequest)} µs)` : 'not run',
    });
  };
  // Issue 16: throughput share and CPU per request relative to bare, on Express and on Fastify.
  const goals: [string, string, number, number, string][] = [
    ['S1-memory', 'memory', 0.97, 1.03, 'S1'],
    ['S2-memory', 'memory', 0.9, 1.1, 'S2 memory'],
    ['S2-redis', 'redis', 0.85, 1.2, 'S2 Redis'],
    ['S3-redis', 'redis', 0.8, 1.3, 'S3 Redis'],
    ['S4-redis', 'redis', 0.8, 1.3, 'S4 Redis'],
  ];
  for (const framework of ['nest', 'fastify']) {
    for (const [scenario, store, share, cpuMax, label] of goals) {
      const id = `${framework}-ns-${store}`;
      if (framework === 'fastify' && !cell(scenario, id)) continue;
      ratio(scenario, id, share, label);
      cpu(scenario, id, cpuMax, label);
    }
  }
  commands('S2-redis', 'nest-ns-redis', 1);
  commands('S3-redis', 'nest-ns-redis', 2);
  commands('S4-redis', 'nest-ns-redis', 1);
  // Fastify (issue 12): ahead of @fastify/session everywhere, the same share of bare as on Express.
  for (const c of cells) {
    if (c.info.framework !== 'fastify' || c.info.engine !== 'nest-session') continue;
    const fs = cell(c.scenario.id, expressSessionOf(c.info) ?? '');
    out.push({
      text: `${c.scenario.id} ${c.info.id}: more req/s than ${fs?.info.id ?? '@fastify/session'}`,
      // The same-round ratio (what the table shows), not the medians' quotient.
      met: fs ? c.vsExpressSession > 1 : undefined,
      detail: fs ? `${fmt(c.vsExpressSession, 2)} × @fastify/session` : 'not run',
    });
    const onExpress = cell(c.scenario.id, c.info.id.replace(/^fastify-/, 'nest-'));
    out.push({
      text: `${c.scenario.id} ${c.info.id}: share of bare Fastify within 0.05 of ${onExpress?.info.id ?? 'Express'}'s share of bare Nest`,
      met: onExpress ? c.vsBare >= onExpress.vsBare - 0.05 : undefined,
      detail: onExpress ? `${fmt(c.vsBare, 2)} vs ${fmt(onExpress.vsBare, 2)}` : 'not run',
    });
  }
  for (const c of cells) {
    // The Cluster variant has no express-session counterpart on a Cluster, and express-session
    // has no encryption: shown, not judged.
    if (c.info.engine !== 'nest-session' || c.info.store === 'cluster' || c.info.encrypted) {
      continue;
    }
    if (c.info.framework === 'fastify') continue; // judged against @fastify/session above
    const es = cell(c.scenario.id, expressSessionOf(c.info) ?? '');
    if (!es) continue;
    out.push({
      text: `${c.scenario.id} ${c.info.id}: CPU/request and p99 below ${es.info.id}`,
      met: c.cpuPerRequest < es.cpuPerRequest && c.p99 <= es.p99,
      detail: `CPU ${fmt(c.cpuPerRequest)} vs ${fmt(es.cpuPerRequest)} µs; p99 ${fmt(c.p99)} vs ${fmt(es.p99)} ms`,
    });
  }
  if (memory) {
    out.push({
      text: 'MemoryStore bytes per idle session (100k sessions) below express-session',
      met: memory.ns !== undefined && memory.es !== undefined ? memory.ns < memory.es : undefined,
      detail: `nest-session ${fmt(memory.ns ?? NaN)} B vs express-session ${fmt(memory.es ?? NaN)} B`,
    });
  }
  return out;
}

function versionOf(pkg: string): string {
  try {
    const text = readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return '?';
  }
}

function machine(): string {
  let cpu = '?';
  try {
    cpu =
      /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '?';
  } catch {
    /* not Linux */
  }
  let nproc = String(availableParallelism());
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    /* keep availableParallelism */
  }
  return `${nproc} CPUs (nproc), ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`;
}

function report(
  options: Options,
  cells: Cell[],
  memory: Record<string, number> | undefined,
  started: Date,
): string {
  const redisVersion =
    /v=(\S+)/.exec(
      spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '',
    )?.[1] ?? '?';
  const t = targets(cells, memory);
  const mark = (met: boolean | undefined) => (met === undefined ? '–' : met ? 'met' : '**missed**');
  return [
    '# nest-session benchmark results',
    '',
    `Generated by \`npm run bench${options.quick ? ' -- --quick' : ''}${options.cellsText ? ` -- --cells ${options.cellsText}` : ''}\` on ${started.toISOString()} (load average ${startLoad} at the start, ${loadText()} at the end).`,
    '',
    `- Machine: ${machine()}`,
    `- Node ${process.version}; @nestjs/core ${versionOf('@nestjs/core')} on @nestjs/platform-express ${versionOf('@nestjs/platform-express')}; express ${versionOf('express')}`,
    `- Fastify: @nestjs/platform-fastify ${versionOf('@nestjs/platform-fastify')}, fastify ${versionOf('fastify')}, @fastify/session ${versionOf('@fastify/session')} with @fastify/cookie ${versionOf('@fastify/cookie')} (registered with \`app.register\`, \`saveUninitialized: false\`, \`rolling: false\`); "× bare" of a Fastify row is against bare Nest on Fastify in the same round`,
    `- express-session ${versionOf('express-session')}, connect-redis ${versionOf('connect-redis')}, nestjs-session ${versionOf('nestjs-session')}, ioredis ${versionOf('ioredis')}, redis-server ${redisVersion}, autocannon ${versionOf('autocannon')}`,
    `- Load: autocannon, ${CONNECTIONS} connections, loopback, ${options.duration} s per run after ${options.warmup} s warm-up; ${options.rounds} round(s), variants interleaved round-robin (order rotated each round); medians over rounds. Ratios are medians of per-round ratios (same round); "× bare, rounds" gives the lowest and highest per-round ratio, i.e. how much the machine drifted between runs.`,
    `- Every server: \`resave: false\`, \`saveUninitialized: false\`, \`cookie.maxAge\` one day, NODE_ENV=production; nest-session with its module defaults (touchAfter 60 s, strictWrites). S2/S3 send one of ${options.pool} session cookies per request (made through GET /s4); Redis records are aged ${SESSION_AGE_MS / 60000} min (\`cookie.expires\` moved back, TTL kept), as in a real app where most requests read sessions saved earlier.`,
    "- CPU µs/req: the server process's `process.cpuUsage()` delta over the measured run / requests; CPU × bare: the median of per-round ratios to the bare server of the same framework (same round, back to back: steadier than req/s on a loaded machine). GC/10k req and alloc KB/req: from the server's `--trace-gc-nvp` lines (every server runs with it): scavenges and other collections per 10,000 requests, the main thread's GC pauses (their sum / requests: a scavenge costs what survives it, not what was allocated), and the bytes V8 reports allocated between collections / requests. Peak RSS: the server's `maxRSS`. Redis cmds/req: the commands the server's Redis client sent (counted at its `sendCommand`; a script is one command) / requests (INFO, CLUSTER and the like excluded). p50/p99 have autocannon's 1 ms resolution.",
    '',
    table(cells),
    '',
    ...(memory
      ? [
          `MemoryStore heap per idle session (${options.memoryCount.toLocaleString('en')} sessions, heap delta after GC, \`--expose-gc\`): nest-session ${fmt(memory.ns ?? NaN)} B, express-session ${fmt(memory.es ?? NaN)} B.`,
          '',
        ]
      : []),
    '## Targets (issues 5, 12 and 16)',
    '',
    '| target | result | value |',
    '|---|---|---|',
    ...t.map((x) => `| ${x.text} | ${mark(x.met)} | ${x.detail} |`),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- memory per session

function memoryPerSession(count: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const which of ['ns', 'es']) {
    const result = spawnSync(
      process.execPath,
      ['--expose-gc', join(__dirname, 'memory.js'), which, String(count)],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (result.status !== 0) throw new Error(`memory ${which} failed: ${result.stderr}`);
    out[which] = (JSON.parse(result.stdout) as { bytesPerSession: number }).bytesPerSession;
  }
  return out;
}

// ---------------------------------------------------------------- main

/** The hand-written analysis of the results file, from its heading on, kept across runs. */
const ANALYSIS_HEADING = '## Where the µs go';

function keptAnalysis(file: string): string {
  let previous = '';
  try {
    previous = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const at = previous.indexOf(ANALYSIS_HEADING);
  return at >= 0 ? `\n${previous.slice(at)}` : '';
}

const loadText = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
/** The machine's load average when the run started (others' work shows in it). */
const startLoad = loadText();

/**
 * Whether `--cells` selects variant `id` of `scenario`: listed, or the bare server of the same
 * framework as a listed one (the ratios need it).
 */
function inCells(cells: Options['cells'], scenario: string, id: string): boolean {
  if (!cells) return true;
  if (!cells.has(scenario)) return false;
  const chosen = cells.get(scenario);
  if (chosen === undefined || chosen.has(id)) return true;
  return [...chosen].some((c) => bareOf(variant(c)) === id);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = new Date();
  const t0 = Date.now();
  if (options.cpuProf) mkdirSync(options.cpuProf, { recursive: true });
  if (options.heapProf) mkdirSync(options.heapProf, { recursive: true });
  const scenarios = SCENARIOS.filter(
    (s) => !options.scenarios || options.scenarios.includes(s.id),
  ).map((s) => ({
    ...s,
    variants: s.variants.filter(
      (v) =>
        (!options.variants || options.variants.includes(v)) &&
        (options.cluster || variant(v).store !== 'cluster') &&
        inCells(options.cells, s.id, v),
    ),
  }));
  for (const id of options.variants ?? []) variant(id);

  let redis: RedisSide | undefined;
  const needsRedis = scenarios.some((s) =>
    s.variants.some((v) => ['redis', 'cluster'].includes(variant(v).store)),
  );
  if (needsRedis) {
    // The test suite's private servers (never the shared one on 6379).
    const standalone = await startRedis({ requirePrivate: true });
    redisServers.push(standalone);
    let cluster: RedisClusterHandle | undefined;
    if (scenarios.some((s) => s.variants.some((v) => variant(v).store === 'cluster'))) {
      cluster = await startRedisCluster();
      redisServers.push(cluster);
    }
    const clusterPorts = (cluster?.nodes ?? []).map((n) => n.port);
    redis = {
      standalone,
      standaloneClient: new Redis({ host: '127.0.0.1', port: standalone.port }),
      cluster,
      clusterClients: clusterPorts.map((port) => new Redis({ host: '127.0.0.1', port })),
    };
    console.error(
      `redis-server on 127.0.0.1:${standalone.port}` +
        (cluster ? `; cluster on ${clusterPorts.join(', ')}` : ''),
    );
  }

  const runs: Run[] = [];
  const cells: Cell[] = [];
  try {
    for (const scenario of scenarios) {
      if (scenario.variants.length === 0) continue;
      if (redis) {
        // Our own servers only: start each Redis scenario from empty stores.
        await redis.standaloneClient.flushall();
        for (const c of redis.clusterClients) await c.flushall();
      }
      const servers: ServerChild[] = [];
      for (const id of scenario.variants) {
        const info = variant(id);
        const redisArg =
          info.store === 'redis'
            ? String(redis?.standalone.port)
            : info.store === 'cluster'
              ? (redis?.cluster?.nodes.map((n) => n.port).join(',') ?? '')
              : '';
        servers.push(
          await ServerChild.start(
            info,
            redisArg,
            options.cpuProf,
            options.nodeArgs,
            options.heapProf,
          ),
        );
      }
      const cookies = new Map<string, string[]>();
      for (const server of servers) {
        cookies.set(
          server.info.id,
          scenario.cookie && server.info.store !== 'none'
            ? await makeCookies(server.port, options.pool)
            : fakeCookies(options.pool),
        );
      }
      if (scenario.cookie && redis) {
        await ageSessions([redis.standaloneClient, ...redis.clusterClients]);
      }
      for (let round = 0; round < options.rounds; round++) {
        const order = servers.map((_, i) => servers[(i + round) % servers.length] as ServerChild);
        for (const server of order) {
          const run = await measure(
            server,
            scenario,
            cookies.get(server.info.id) ?? [],
            round,
            options,
          );
          runs.push(run);
          console.error(
            `${scenario.id} r${round + 1} ${server.info.id.padEnd(28)} ${fmt(run.rps).padStart(6)} req/s  p99 ${run.p99} ms  cpu ${fmt(run.cpuPerRequest)} µs/req` +
              (run.errors + run.non2xx > 0 ? `  ERRORS ${run.errors} non2xx ${run.non2xx}` : ''),
          );
        }
      }
      for (const server of servers) await server.stop();
      cells.push(...aggregate(scenario, runs));
    }
  } finally {
    redis?.standaloneClient.disconnect();
    for (const c of redis?.clusterClients ?? []) c.disconnect();
    cleanup();
  }

  const memory = options.memory ? memoryPerSession(options.memoryCount) : undefined;
  const text = report(options, cells, memory, started);
  console.log(text);
  console.error(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (options.out) {
    writeFileSync(options.out, text + keptAnalysis(options.out));
    console.error(`wrote ${options.out}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  cleanup();
  process.exit(1);
});
