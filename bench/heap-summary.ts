/**
 * Summarizes allocation-sampling profiles (`npm run bench -- --heap-prof DIR`): bytes allocated
 * per request by the function that allocated them, garbage included.
 *
 * `node dist-bench/bench/heap-summary.js FILE.heapprofile [BASE.heapprofile] [--top N]`
 *
 * With a second profile (the bare server), prints both side by side sorted by the difference:
 * what each request allocates on top of bare.
 */
import { readFileSync } from 'node:fs';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

interface Allocations {
  file: string;
  requests: number;
  total: number;
  functions: Map<string, number>;
}

function read(file: string): Allocations {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const { requests } = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { requests: number };
  const functions = new Map<string, number>();
  let total = 0;
  const stack = [profile.head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    const f = node.callFrame;
    const short = f.url.replace(/^.*\/(node_modules|dist-bench)\//, '');
    const key = `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  return { file, requests: Math.max(requests, 1), total, functions };
}

function main(): void {
  const args = process.argv.slice(2);
  const i = args.indexOf('--top');
  const top = i >= 0 ? Number(args[i + 1]) : 30;
  const [file, baseFile] = args.filter((a, j) => a !== '--top' && (i < 0 || j !== i + 1));
  if (!file) throw new Error('usage: heap-summary.js FILE.heapprofile [BASE.heapprofile]');
  const ours = read(file);
  const base = baseFile ? read(baseFile) : undefined;
  const perRequest = (a: Allocations | undefined, key?: string) =>
    a ? (key === undefined ? a.total : (a.functions.get(key) ?? 0)) / a.requests : 0;
  console.log(
    `${file}: ${ours.requests} requests, ${(perRequest(ours) / 1024).toFixed(1)} KB/req sampled` +
      (base ? `; base ${base.file}: ${(perRequest(base) / 1024).toFixed(1)} KB/req` : ''),
  );
  const keys = [...new Set([...ours.functions.keys(), ...(base?.functions.keys() ?? [])])];
  const rows = keys
    .map((k) => ({ k, o: perRequest(ours, k), b: perRequest(base, k) }))
    .sort((p, q) => q.o - q.b - (p.o - p.b));
  console.log(`\nbytes/req by allocating function: ${base ? 'ours − base, ours, base' : 'ours'}`);
  for (const r of rows.slice(0, top)) {
    const cells = base ? [r.o - r.b, r.o, r.b] : [r.o];
    console.log(`  ${cells.map((c) => c.toFixed(0).padStart(7)).join(' ')}  ${r.k}`);
  }
}

main();
