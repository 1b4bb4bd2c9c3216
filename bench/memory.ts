/**
 * MemoryStore memory per idle session: `node --expose-gc memory.js <es|ns> <count>`.
 *
 * Stores `count` sessions (the record the engine writes for a signed-in user: cookie with
 * `maxAge`, a small user object) through the store's own `set`, then prints the heap growth
 * after a full GC, per session, as JSON on stdout.
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../lib/stores/memory-store';
import { MAX_AGE, sessionPayload } from './variants';

type CallbackStore = {
  set(sid: string, session: unknown, callback: (err?: unknown) => void): void;
};

const gc = (globalThis as { gc?: () => void }).gc;

function collect(): number {
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const which = process.argv[2];
  const count = Number(process.argv[3] ?? 100_000);
  let store: CallbackStore;
  if (which === 'es') {
    const session = createRequire(__filename)('express-session') as {
      MemoryStore: new () => CallbackStore;
    };
    store = new session.MemoryStore();
  } else {
    store = new MemoryStore({ max: count, pruneInterval: 0 }) as unknown as CallbackStore;
  }
  const before = collect();
  const start = Date.now();
  for (let i = 0; i < count; i += 1000) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const record = {
        cookie: {
          originalMaxAge: MAX_AGE,
          expires: new Date(start + MAX_AGE),
          secure: false,
          httpOnly: true,
          path: '/',
          sameSite: 'lax',
        },
        ...sessionPayload(),
      };
      batch.push(
        new Promise<void>((resolve, reject) =>
          store.set(randomBytes(24).toString('base64url'), record, (err) =>
            err ? reject(err) : resolve(),
          ),
        ),
      );
    }
    await Promise.all(batch);
  }
  const after = collect();
  const perSession = after - before;
  process.stdout.write(
    `${JSON.stringify({ which, count, bytesPerSession: Math.round(perSession / count) })}\n`,
  );
  // Keep the store reachable until after the measurement.
  if (!store) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
