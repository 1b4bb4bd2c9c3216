/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and
 * the share of time spent under each top-level package folder.
 *
 * `node dist-bench/bench/profile-summary.js FILE.cpuprofile [top=30]`
 * (`npm run bench -- --cpu-prof DIR ...` writes one profile per server.)
 */
import { readFileSync } from 'node:fs';

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

function main(): void {
  const file = process.argv[2];
  const top = Number(process.argv[3] ?? 30);
  if (!file) throw new Error('usage: profile-summary.js FILE.cpuprofile [top]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfTime.values()].reduce((s, v) => s + v, 0);
  const idle = [...selfTime.entries()]
    .filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)?.callFrame.functionName ?? ''))
    .reduce((s, [, v]) => s + v, 0);
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    const short = f.url.replace(/^.*\/(node_modules|dist-bench)\//, '');
    const key = `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + time);
    const pkg = where(f.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + time);
  }
  const pct = (v: number) => `${((100 * v) / (total - idle || 1)).toFixed(1)}%`;
  console.log(
    `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${((idle / total) * 100).toFixed(0)}% idle/program`,
  );
  console.log('\nself time by package (share of busy time):');
  for (const [pkg, time] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${pct(time).padStart(6)}  ${pkg}`);
  }
  console.log(`\ntop ${top} functions by self time:`);
  for (const [key, time] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${pct(time).padStart(6)}  ${key}`);
  }
}

main();
