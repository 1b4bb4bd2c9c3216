/** An operation waiting for its answer, cut off by a {@link DeadlineQueue} when it is late. */
export interface Deadline {
  /** Time (`performance.now()`, monotonic) after which the operation is late. */
  readonly at: number;
  /** Set when the operation answered (or was cut off): the queue then ignores it. */
  settled: boolean;
  /** Called once when the operation is late (it is marked settled first). */
  expire(): void;
}

/** How many settled entries may pile up at the front before the array is compacted. */
const COMPACT_AFTER = 1024;

/**
 * Cuts off late operations that all share the same time limit, with one timer for all of them
 * instead of one `setTimeout`/`clearTimeout` pair per operation (a measurable cost at thousands
 * of operations per second). With a single limit, deadlines arrive in order, so a FIFO is enough:
 * the timer is armed for the oldest unsettled operation; answered operations are only marked.
 * The timer is unref'd: a pending command keeps the process alive through its socket, not
 * through us.
 */
export class DeadlineQueue {
  private entries: Deadline[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /** @param limit the time limit of every operation, in ms (> 0) */
  constructor(private readonly limit: number) {}

  /** Starts watching an operation; `expire` runs if it has not settled within the limit. */
  watch(expire: () => void): Deadline {
    const entry: Deadline = { at: performance.now() + this.limit, settled: false, expire };
    this.entries.push(entry);
    if (this.timer === undefined) this.arm(this.limit);
    return entry;
  }

  /** Marks an operation answered (its `expire` will not run). */
  settle(entry: Deadline): void {
    entry.settled = true;
    const entries = this.entries;
    while (this.head < entries.length && (entries[this.head] as Deadline).settled) this.head++;
    if (this.head === entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Number of operations still being watched (settled ones not yet dropped included). */
  get size(): number {
    return this.entries.length - this.head;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(1, delay));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    // `this.entries` is read afresh: an expire handler may settle or watch other operations.
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head] as Deadline;
      if (!entry.settled && entry.at > now) break;
      this.head++;
      if (!entry.settled) {
        entry.settled = true;
        try {
          entry.expire();
        } catch (err) {
          // One failing handler must not stop the others from being cut off.
          process.nextTick(() => {
            throw err;
          });
        }
      }
    }
    if (this.head >= this.entries.length) {
      this.entries = [];
      this.head = 0;
      return;
    }
    if (this.timer === undefined) this.arm((this.entries[this.head] as Deadline).at - now);
  }
}
