/**
 * In-process cost of encryption at rest: sealing and opening a typical signed-in session
 * (about 300 bytes of JSON) with the record cipher, and the same through the store wrapper over
 * a MemoryStore (set + get, against the MemoryStore alone). `node dist-bench/bench/encryption.js`
 * after `tsc -p bench/tsconfig.json`.
 */
import { randomBytes } from 'node:crypto';
import { RecordCipher } from '../lib/engine/encryption';
import { EncryptedStore } from '../lib/engine/store/encrypted-store';
import type { SessionRecord } from '../lib/engine/session-data';
import { MemoryStore } from '../lib/stores/memory-store';

const SID = randomBytes(24).toString('base64url');
const DATA = {
  user: { id: 'u-1234567890', name: 'Bench User', email: 'bench.user@example.com' },
  roles: ['reader', 'writer'],
  cart: ['sku-100200', 'sku-100201', 'sku-100202'],
  csrf: randomBytes(24).toString('base64url'),
  returnTo: '/account/settings/notifications',
  flash: { kind: 'info', text: 'Your settings were saved.' },
  hits: 42,
};
const PLAINTEXT = JSON.stringify(DATA);

/** Microseconds per call of `fn`, the best of 5 rounds of `n` calls. */
async function perCall(n: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000 / n);
  }
  return best;
}

async function main(): Promise<void> {
  const cipher = new RecordCipher({ keys: [randomBytes(32)] });
  const sealed = cipher.seal(SID, PLAINTEXT);
  const seal = await perCall(20_000, () => cipher.seal(SID, PLAINTEXT));
  const open = await perCall(20_000, () => cipher.open(SID, sealed));

  const record = (): SessionRecord =>
    ({
      cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000) },
      ...DATA,
    }) as unknown as SessionRecord;
  const plain = new MemoryStore({ pruneInterval: 0 });
  const inner = new MemoryStore({ pruneInterval: 0 });
  const wrapped = new EncryptedStore(inner, { keys: [randomBytes(32)] });
  const bare = await perCall(20_000, async () => {
    await plain.set(SID, record());
    await plain.get(SID);
  });
  const through = await perCall(20_000, async () => {
    await (wrapped.set(SID, record()) as Promise<unknown>);
    await (wrapped.get(SID) as Promise<unknown>);
  });
  plain.close();
  inner.close();

  const fmt = (n: number) => n.toFixed(2);
  console.log(
    `session data: ${Buffer.byteLength(PLAINTEXT)} bytes of JSON; sealed value ${sealed.length} characters`,
  );
  console.log(`seal (encrypt): ${fmt(seal)} µs`);
  console.log(`open (decrypt): ${fmt(open)} µs`);
  console.log(`seal + open: ${fmt(seal + open)} µs`);
  console.log(
    `MemoryStore set + get: ${fmt(bare)} µs alone, ${fmt(through)} µs encrypted (+${fmt(through - bare)} µs)`,
  );
}

void main();
