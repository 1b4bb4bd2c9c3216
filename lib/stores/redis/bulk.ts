import type { RedisCommandCore } from './command-core';
import { RedisStoreError } from './errors';
import type { RedisStoredSession, RedisStoreSerializer } from './options';
import { decodeRecord } from './records';
import type { RedisCommands } from './redis-client';

/** What the listings use of the store. */
export interface ScanSettings {
  readonly prefix: string;
  readonly scanCount: number;
  readonly serializer: RedisStoreSerializer;
}

/** Escapes the glob characters of a literal key prefix for `SCAN … MATCH`. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function isCluster(core: RedisCommandCore): boolean {
  return core.client.isCluster === true;
}

/** The endpoints to scan: every master of a Cluster, or the client itself. */
function endpoints(core: RedisCommandCore, operation: string): RedisCommands[] {
  const client = core.client;
  if (client.isCluster !== true || typeof client.nodes !== 'function') return [client];
  const masters = client.nodes('master');
  if (masters.length === 0) {
    throw new RedisStoreError(operation, 'the Redis Cluster has no connected master (not ready?)');
  }
  return masters;
}

/**
 * Cluster scanning: `SCAN … MATCH prefix* COUNT scanCount` on every endpoint (each master of a
 * Cluster, one by one), handing each batch of keys to `onBatch`. Never `KEYS`.
 */
async function scan(
  core: RedisCommandCore,
  settings: ScanSettings,
  operation: string,
  onBatch: (keys: string[]) => Promise<void>,
): Promise<void> {
  const pattern = `${globEscape(settings.prefix)}*`;
  for (const node of endpoints(core, operation)) {
    let cursor = '0';
    do {
      const [next, keys] = await core.command(operation, () =>
        node.scan(cursor, 'MATCH', pattern, 'COUNT', settings.scanCount),
      );
      cursor = next;
      if (keys.length > 0) await onBatch(keys);
    } while (cursor !== '0');
  }
}

/** The ids of the stored sessions (`ids`, `length`); each once, even if a scan repeats it. */
export async function listIds(
  core: RedisCommandCore,
  settings: ScanSettings,
  operation: string,
): Promise<string[]> {
  const seen = new Set<string>();
  await scan(core, settings, operation, async (keys) => {
    for (const key of keys) seen.add(key.slice(settings.prefix.length));
  });
  return [...seen];
}

/** Every readable stored session with its `id` (`all`); unreadable ones are warned about. */
export async function readAll(
  core: RedisCommandCore,
  settings: ScanSettings,
  warn: (message: string) => void,
): Promise<RedisStoredSession[]> {
  const seen = new Set<string>();
  const out: RedisStoredSession[] = [];
  const client = core.client;
  await scan(core, settings, 'all', async (batch) => {
    const keys = batch.filter((key) => !seen.has(key));
    for (const key of keys) seen.add(key);
    if (keys.length === 0) return;
    // Standalone: one MGET per batch. Cluster: one GET per key (keys of a batch live in
    // different slots), sent together and routed by the cluster client.
    const values = isCluster(core)
      ? await Promise.all(keys.map((key) => core.command('all', () => client.get(key))))
      : await core.command('all', () => client.mget(...keys));
    for (let i = 0; i < keys.length; i++) {
      const raw = values[i];
      const key = keys[i] as string;
      if (raw === null || raw === undefined) continue;
      const session = await decodeRecord(settings.serializer, raw);
      if (typeof session === 'string') {
        warn(`the session record ${key} ${session}; all() skipped it`);
        continue;
      }
      out.push(Object.assign(session, { id: key.slice(settings.prefix.length) }));
    }
  });
  return out;
}

/** Deletes every stored session (`clear`): `DEL` per batch, per key on a Cluster. */
export async function removeAll(core: RedisCommandCore, settings: ScanSettings): Promise<void> {
  await scan(core, settings, 'clear', async (keys) => {
    if (isCluster(core)) {
      await Promise.all(keys.map((key) => core.command('clear', (r) => r.del(key))));
    } else {
      await core.command('clear', (r) => r.del(...keys));
    }
  });
}
