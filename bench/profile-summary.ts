/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`): the functions with the most self time, and
 * the time spent under each top-level package folder.
 *
 * `node dist-bench/bench/profile-summary.js FILE.cpuprofile [BASE.cpuprofile] [--top N]`
 *
 * `npm run bench -- --cpu-prof DIR ...` writes one profile per server and, beside it,
 * `FILE.cpuprofile.json` with the number of requests the server handled: with it, times are
 * given in µs per request (else as shares of busy time). Given a second profile (e.g. the bare
 * server of the same round), it prints both side by side and sorts by the difference: where the
 * extra µs per request go.
 */
import { existsSync, readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface Summary {
  file: string;
  /** Requests the profile covers (from the sidecar file), or undefined. */
  requests: number | undefined;
  busy: number;
  total: number;
  functions: Map<string, number>;
  packages: Map<string, number>;
}

function where(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.includes('/dist-bench/lib/')) return 'nest-session (lib)';
  if (url.includes('/dist-bench/bench/')) return 'bench';
  if (url.startsWith('node:')) return 'node core';
  return url === '' ? '(native/vm)' : 'other';
}

function summarize(file: string): Summary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfTime.values()].reduce((s, v) => s + v, 0);
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let busy = 0;
  for (const [id, time] of selfTime) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)' || f.functionName === '(program)') continue;
    busy += time;
    const short = f.url.replace(/^.*\/(node_modules|dist-bench)\//, '');
    const key = `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + time);
    const pkg = where(f.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + time);
  }
  const sidecar = `${file}.json`;
  const requests = existsSync(sidecar)
    ? (JSON.parse(readFileSync(sidecar, 'utf8')) as { requests: number }).requests
    : undefined;
  return { file, requests, busy, total, functions, packages };
}

/** A time in the summary's unit: µs per request when the request count is known, else %. */
function unit(s: Summary): (v: number) => number {
  return s.requests ? (v) => v / s.requests! : (v) => (100 * v) / (s.busy || 1);
}

function printOne(s: Summary, top: number): void {
  const u = unit(s);
  const label = s.requests ? 'µs/req' : '% busy';
  console.log(
    `${s.file}: ${(s.total / 1e6).toFixed(1)} s sampled, ${(((s.total - s.busy) / s.total) * 100).toFixed(0)}% idle/program` +
      (s.requests ? `, ${s.requests} requests, ${u(s.busy).toFixed(1)} busy µs/req` : ''),
  );
  console.log(`\nself time by package (${label}):`);
  for (const [pkg, time] of [...s.packages].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${u(time).toFixed(1).padStart(7)}  ${pkg}`);
  }
  console.log(`\ntop ${top} functions by self time (${label}):`);
  for (const [key, time] of [...s.functions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${u(time).toFixed(1).padStart(7)}  ${key}`);
  }
}

function printDiff(ours: Summary, base: Summary, top: number): void {
  const uo = unit(ours);
  const ub = unit(base);
  const label = ours.requests && base.requests ? 'µs/req' : '% busy';
  console.log(`ours: ${ours.file} (${ours.requests ?? '?'} requests)`);
  console.log(`base: ${base.file} (${base.requests ?? '?'} requests)`);
  console.log(
    `busy ${label}: ours ${uo(ours.busy).toFixed(1)}, base ${ub(base.busy).toFixed(1)}, difference ${(uo(ours.busy) - ub(base.busy)).toFixed(1)}`,
  );
  const rows = (a: Map<string, number>, b: Map<string, number>) =>
    [...new Set([...a.keys(), ...b.keys()])]
      .map((k) => {
        const o = uo(a.get(k) ?? 0);
        const x = ub(b.get(k) ?? 0);
        return { k, o, x, d: o - x };
      })
      .sort((p, q) => q.d - p.d);
  const line = (r: { k: string; o: number; x: number; d: number }) =>
    `  ${r.d.toFixed(1).padStart(7)} ${r.o.toFixed(1).padStart(7)} ${r.x.toFixed(1).padStart(7)}  ${r.k}`;
  console.log(`\nby package (${label}): ours − base, ours, base`);
  for (const r of rows(ours.packages, base.packages).slice(0, 15)) console.log(line(r));
  console.log(`\ntop ${top} functions by extra self time (${label}): ours − base, ours, base`);
  for (const r of rows(ours.functions, base.functions).slice(0, top)) console.log(line(r));
}

function main(): void {
  const args = process.argv.slice(2);
  const i = args.indexOf('--top');
  const top = i >= 0 ? Number(args[i + 1]) : 30;
  const files = args.filter((a, j) => a !== '--top' && (i < 0 || j !== i + 1));
  const [file, base] = files;
  if (!file)
    throw new Error('usage: profile-summary.js FILE.cpuprofile [BASE.cpuprofile] [--top N]');
  if (base) printDiff(summarize(file), summarize(base), top);
  else printOne(summarize(file), top);
}

main();
