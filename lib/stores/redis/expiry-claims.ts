import type { SessionRecord } from '../../engine/session-data';
import type { RedisCommandCore } from './command-core';
import { ttlOf } from './records';

/** How long a claim on an expired session's report lives (every store has heard of it by then). */
const CLAIM_SECONDS = 300;
/** How much longer than its session the owner record lives (Redis may expire keys late). */
const OWNER_GRACE_SECONDS = 3600;

/** The commands the expiry bookkeeping sends, beyond `RedisCommands` (ioredis has them all). */
interface ExpiryCommands {
  set(key: string, value: string, ex: 'EX', seconds: number, nx?: 'NX'): Promise<unknown>;
  get(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
}

/** What the expiry bookkeeping uses of the store. */
export interface ExpiryClaimSettings {
  readonly expiryPrefix: string;
  readonly ttl: number | ((session: SessionRecord) => number);
  readonly disableTTL: boolean;
}

/** The key naming the user of session `sid` (written with the per-user index). */
export function ownerKey(settings: ExpiryClaimSettings, sid: string): string {
  return `${settings.expiryPrefix}owner:${sid}`;
}

/** The key the first store to hear of `sid`'s expiry sets (`SET NX`). */
export function claimKey(settings: ExpiryClaimSettings, sid: string): string {
  return `${settings.expiryPrefix}claim:${sid}`;
}

/**
 * Records that `sid` belongs to `userId` until an hour after the session's own expiry
 * (`SET <expiryPrefix>owner:<sid> userId EX ttl+3600`): once Redis expired the session, its key
 * name is all that is left, and this says whose it was.
 */
export async function recordOwner(
  core: RedisCommandCore,
  settings: ExpiryClaimSettings,
  userId: string,
  sid: string,
  session: SessionRecord,
): Promise<void> {
  let ttl = ttlOf(session, settings.ttl, settings.disableTTL);
  if (ttl === undefined || ttl <= 0) {
    ttl = typeof settings.ttl === 'number' ? Math.ceil(settings.ttl) : 86_400;
  }
  const seconds = ttl + OWNER_GRACE_SECONDS;
  await core.command('addUserSession', (r) =>
    (r as unknown as ExpiryCommands).set(ownerKey(settings, sid), userId, 'EX', seconds),
  );
}

/**
 * Claims the report of `sid`'s expiry for this store (`SET <expiryPrefix>claim:<sid> NX`):
 * `undefined` when another store sharing this Redis claimed it first; otherwise the claim won,
 * with the session's user when it was recorded (read, then removed).
 */
export async function claimExpiry(
  core: RedisCommandCore,
  settings: ExpiryClaimSettings,
  sid: string,
): Promise<{ userId: string | undefined } | undefined> {
  const won = await core.command('expiryClaim', (r) =>
    (r as unknown as ExpiryCommands).set(claimKey(settings, sid), '1', 'EX', CLAIM_SECONDS, 'NX'),
  );
  if (won !== 'OK') return undefined;
  const key = ownerKey(settings, sid);
  const owner = await core.command('expiryClaim', (r) => (r as unknown as ExpiryCommands).get(key));
  // Only the claim's winner reads it: it can go now (else its own TTL removes it).
  if (owner !== null) {
    core.command('expiryClaim', (r) => r.del(key)).catch(() => undefined);
  }
  return { userId: owner ?? undefined };
}
