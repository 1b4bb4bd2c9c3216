/**
 * A write sent again to the new primary after a Sentinel failover. Answers what it found:
 * {@link REPLAY_THERE}, {@link REPLAY_RESTORED} or {@link REPLAY_LEFT}.
 */
export type Replay = () => Promise<unknown>;

/** The write had reached the new primary: nothing to do. */
export const REPLAY_THERE = 0;
/** The write was missing on the new primary, and is written now. */
export const REPLAY_RESTORED = 1;
/** The record was written since (or is gone): the replay leaves it alone. */
export const REPLAY_LEFT = 2;

/** How many writes a replay found in each state. */
export interface ReplayReport {
  checked: number;
  restored: number;
  left: number;
  failed: number;
}

interface Entry {
  at: number;
  replay: Replay;
}

/**
 * The writes the store acknowledged lately (their replays), for a Sentinel failover: Redis
 * replicates asynchronously, so the writes a primary acknowledged in the last moments before the
 * promotion of a replica may be missing on it. Keeps the writes of the last `windowMs` before the
 * latest one, at most `maxWrites` (the oldest go first); costs one array slot per write.
 */
export class RecentWrites {
  private entries: Entry[] = [];
  /** Index of the oldest entry kept (those before it are forgotten). */
  private head = 0;

  constructor(
    readonly windowMs: number,
    private readonly maxWrites: number,
  ) {}

  /** Remembers an acknowledged write. */
  add(replay: Replay): void {
    const at = Date.now();
    const entries = this.entries;
    entries.push({ at, replay });
    const oldest = at - this.windowMs;
    let head = this.head;
    while (
      head < entries.length &&
      (entries.length - head > this.maxWrites || (entries[head] as Entry).at < oldest)
    ) {
      head++;
    }
    // Forgotten slots are dropped in bulk, so that each write costs O(1) on average.
    if (head > 1024 && head * 2 > entries.length) {
      this.entries = entries.slice(head);
      head = 0;
    }
    this.head = head;
  }

  /** Takes (and forgets all the writes) the replays of those acknowledged at or after `since`. */
  take(since: number): Replay[] {
    const taken: Replay[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i] as Entry;
      if (entry.at >= since) taken.push(entry.replay);
    }
    this.entries = [];
    this.head = 0;
    return taken;
  }
}

/**
 * Sends the replays (in order, on the client's one connection) and counts what they found; a
 * replay that fails (the connection dropped again) is counted, not retried.
 */
export async function runReplays(replays: Replay[]): Promise<ReplayReport> {
  // Called synchronously, in order (a replay that throws counts as failed).
  const outcomes = await Promise.allSettled(
    replays.map((replay) => new Promise<unknown>((resolve) => resolve(replay()))),
  );
  const report: ReplayReport = { checked: replays.length, restored: 0, left: 0, failed: 0 };
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') report.failed++;
    else if (Number(outcome.value) === REPLAY_RESTORED) report.restored++;
    else if (Number(outcome.value) === REPLAY_LEFT) report.left++;
  }
  return report;
}
