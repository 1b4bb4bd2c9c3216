import { type Deadline, DeadlineQueue } from './deadline-queue';
import { RedisStoreError, messageOf } from './errors';
import type { SentinelFailoverGuard } from './failover-guard';
import type { Replay } from './recent-writes';
import type { RedisClientLike, RedisCommands, RedisPipeline } from './redis-client';
import { WriteBatcher } from './write-batching';

/** A command's answer: its error (always a {@link RedisStoreError}) or its value. */
export type Answer<T> = (err: RedisStoreError | undefined, value?: T) => void;

/** Sends one command to the client it is given (the store's client, or a pipeline of it). */
export type Issue<T> = (client: RedisCommands & RedisClientLike) => Promise<T>;

/**
 * The operations that change Redis: held during a Sentinel failover, confirmed with `WAIT` when
 * `waitReplicas` is set.
 */
const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'set',
  'patch',
  'touch',
  'destroy',
  'addUserSession',
  'clear',
]);

/** What the command core runs with. */
export interface CommandCoreSettings {
  client: RedisClientLike;
  /** Milliseconds per command (0: no limit). */
  timeout: number;
  batchWrites: boolean;
  waitReplicas: number;
  waitTimeout: number;
  failoverGuard: SentinelFailoverGuard | undefined;
}

/**
 * RedisStore's command core: sends one command and reports exactly once, with the timeout
 * (one timer for all commands), write batching, `WAIT` after writes (`waitReplicas`) and writes
 * held during a Sentinel failover.
 */
export class RedisCommandCore {
  readonly client: RedisClientLike;
  private readonly timeout: number;
  /** Cuts off late commands (one timer for all of them), when `timeout` is set. */
  private readonly deadlines: DeadlineQueue | undefined;
  private readonly batcher: WriteBatcher | undefined;
  private readonly waitReplicas: number;
  private readonly waitTimeout: number;
  private readonly guard: SentinelFailoverGuard | undefined;
  /**
   * Whether the writes should {@link RedisCommandCore.remember} their replays: a failover guard
   * that replays (never with `waitReplicas`).
   */
  readonly replays: boolean;

  constructor(settings: CommandCoreSettings) {
    this.client = settings.client;
    this.timeout = settings.timeout;
    this.deadlines = settings.timeout > 0 ? new DeadlineQueue(settings.timeout) : undefined;
    this.batcher = settings.batchWrites ? new WriteBatcher(settings.client) : undefined;
    this.waitReplicas = settings.waitReplicas;
    this.waitTimeout = settings.waitTimeout;
    this.guard = settings.failoverGuard;
    this.replays = this.guard?.remembers === true;
  }

  /** An acknowledged write, to be sent again after a Sentinel failover (when {@link replays}). */
  remember(replay: Replay): void {
    this.guard?.remember(replay);
  }

  /** Whether a Sentinel failover is under way or just ended (a destroy leaves a tombstone). */
  get inFailover(): boolean {
    return this.guard?.inFailover === true;
  }

  /**
   * Sends one Redis command (`issue` calls the client it is given) and reports exactly once to
   * `done`: the reply, or a {@link RedisStoreError} (the client's error as `cause`, a timeout
   * after `timeout` ms, or a write `WAIT` found unreplicated). Never reports synchronously. A
   * write is held while a Sentinel failover runs (see {@link SentinelFailoverGuard}).
   */
  run<T>(operation: string, issue: Issue<T>, done: Answer<T>): void {
    const deadlines = this.deadlines;
    const guard = this.guard;
    const deadline = deadlines?.watch(() =>
      done(
        new RedisStoreError(
          operation,
          guard?.holding
            ? `a Sentinel failover did not complete within ${this.timeout} ms`
            : `Redis did not answer within ${this.timeout} ms`,
          { timedOut: true },
        ),
      ),
    );
    if (guard === undefined && this.waitReplicas === 0) {
      this.send(operation, issue, done, deadline);
      return;
    }
    if (!WRITE_OPERATIONS.has(operation)) {
      if (guard === undefined || !guard.holdingReads) {
        this.send(operation, issue, done, deadline);
        return;
      }
      // On the new primary before the replays: a read would see what they restore missing.
      this.whenReleased(
        () => guard.holdingReads,
        deadline,
        () => this.send(operation, issue, done, deadline),
      );
      return;
    }
    const confirmed = this.waitReplicas > 0 ? this.replicated(operation, issue) : issue;
    if (guard === undefined) {
      this.send(operation, confirmed, done, deadline);
      return;
    }
    const attempt = (): void =>
      this.whenReleased(
        () => guard.holding,
        deadline,
        () => this.send(operation, confirmed, retryOnReadOnly, deadline),
      );
    // A write answered READONLY did not happen: hold it and send it again once the client is
    // back on the primary (still within its deadline).
    const retryOnReadOnly: Answer<T> = (err, value) => {
      if (err && /^READONLY\b/.test(messageOf(err.cause))) {
        guard.onReadOnly();
        return attempt();
      }
      done(err, value);
    };
    attempt();
  }

  /**
   * Runs `go` now, or, while `holding()` says the failover guard holds this kind of command,
   * once the guard releases it; never after the command's deadline passed.
   */
  private whenReleased(
    holding: () => boolean,
    deadline: Deadline | undefined,
    go: () => void,
  ): void {
    const attempt = (): void => {
      if (deadline?.settled) return;
      if (holding()) return (this.guard as SentinelFailoverGuard).defer(attempt);
      go();
    };
    attempt();
  }

  /** {@link RedisCommandCore.run} as a promise. */
  command<T>(operation: string, issue: Issue<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.run(operation, issue, (err, value) => (err ? reject(err) : resolve(value as T)));
    });
  }

  /** Sends `issue` now; settles `deadline` (if any) and reports to `done`. */
  private send<T>(
    operation: string,
    issue: Issue<T>,
    done: Answer<T>,
    deadline: Deadline | undefined,
  ): void {
    this.batcher?.hold();
    const deadlines = this.deadlines as DeadlineQueue;
    let pending: Promise<T>;
    try {
      pending = issue(this.client);
    } catch (err) {
      if (deadline) {
        if (deadline.settled) return;
        deadlines.settle(deadline);
      }
      process.nextTick(done, new RedisStoreError(operation, messageOf(err), { cause: err }));
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        if (deadline) {
          if (deadline.settled) return;
          deadlines.settle(deadline);
        }
        done(undefined, value);
      },
      (err: unknown) => {
        if (deadline) {
          if (deadline.settled) return;
          deadlines.settle(deadline);
        }
        done(
          err instanceof RedisStoreError
            ? err
            : new RedisStoreError(operation, messageOf(err), { cause: err }),
        );
      },
    );
  }

  /**
   * `issue` followed by `WAIT waitReplicas waitTimeout` in one pipeline (so on one connection: on
   * a Cluster, the key's master): the write's reply, or an error when fewer replicas confirmed.
   */
  private replicated<T>(operation: string, issue: Issue<T>): Issue<T> {
    const n = this.waitReplicas;
    const ms = this.waitTimeout;
    return (client) => {
      const pipeline = (client.pipeline as () => RedisPipeline)();
      // A pipeline queues the same commands as the client; its methods return the pipeline, not
      // a promise (the replies come from exec()), hence the cast and the `void`.
      void issue(pipeline as unknown as RedisCommands & RedisClientLike);
      pipeline.wait(n, ms);
      return pipeline.exec().then((replies) => {
        const write = replies?.[0];
        const wait = replies?.[1];
        if (!write || !wait) throw new Error('the pipeline was discarded');
        if (write[0]) throw write[0];
        if (wait[0]) throw wait[0];
        const confirmed = Number(wait[1]);
        if (!(confirmed >= n)) {
          throw new RedisStoreError(
            operation,
            `the write reached ${confirmed} of ${n} replicas within ${ms} ms (waitReplicas)`,
          );
        }
        return write[1] as T;
      });
    };
  }
}
