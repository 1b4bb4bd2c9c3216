import { isIP } from 'node:net';
import { RecentWrites, type Replay, runReplays } from './recent-writes';

/** How long after a failover a destroy also leaves a tombstone (see {@link SentinelFailoverGuard.inFailover}). */
const TOMBSTONE_PERIOD_MS = 30_000;

/**
 * Keeps a Sentinel-configured client's writes on the current primary across a failover.
 *
 * Why it exists: during a Sentinel failover the old primary keeps accepting writes until the
 * sentinels turn it into a replica (in Redis 7 about 10–20 s after the switch, when they next see
 * it), and an ioredis client stays connected to it all that time. Every write it acknowledges in
 * that window is discarded when it resyncs from the new primary: sessions silently lose their
 * updates and logins. The guard closes that window:
 *
 * 1. It subscribes to every sentinel's events. When one of them starts a failover of our master
 *    (`+try-failover`, `+failover-state-send-slaveof-noone`), writes are **held** (not sent);
 *    reads go on (until the switch, with `replay`: see {@link SentinelFailoverGuard.holdingReads}).
 * 2. On `+switch-master` it reconnects the client (ioredis asks the sentinels for the primary
 *    again) and releases the held writes only once the connection is verified to be the announced
 *    primary and `ROLE` says `master`; a lagging sentinel that still names the old primary makes
 *    it reconnect again.
 * 3. A write answered `-READONLY` (the client reached a replica: a failover it did not hear of)
 *    did not happen, so it is held and sent again after the same reconnect-and-verify.
 * 4. A failover that aborts (`-failover-abort-*`) releases the writes; so does `maxHoldMs`
 *    without news (with a warning), so a lost event cannot stall writes for good.
 * 5. Redis replicates asynchronously: the writes the old primary acknowledged in its last
 *    moments (those in flight when the failover started, or all of them for a replica that read
 *    its stream late) can be missing on the promoted replica. With `replay`, the guard remembers
 *    the writes acknowledged in the last `windowMs` ({@link RecentWrites}), and once the new
 *    primary is verified it sends those acknowledged within `windowMs` before the failover
 *    started (before the connection dropped, for a primary that died) again, before the held
 *    writes. Each replay writes only where the new primary shows the write missing and nothing
 *    written since (see `write-replays.ts`), so several instances replaying at once never undo
 *    each other's newer writes.
 *
 * A held write is still bounded by the store's `timeout`: it fails with a clear error (503) when
 * the failover takes longer, and is then never sent. A write acknowledged earlier than the replay
 * window before the failover, and still not replicated, is not recovered; `waitReplicas` closes
 * that gap entirely.
 */
export class SentinelFailoverGuard {
  /** Re-issues of the writes held back, in arrival order. */
  private readonly held: (() => void)[] = [];
  /** Sentinels (by index) that announced a failover of our master now in progress. */
  private readonly failingOver = new Set<number>();
  /** Set while the client must be reconnected and verified before writes go out again. */
  private switching = false;
  /** The primary announced by `+switch-master` (`host:port` after `natMap`), if any. */
  private expected: { host: string; port: number } | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private verifyTimer: NodeJS.Timeout | undefined;
  private readonly subscribers: SentinelSubscriber[] = [];
  private closed = false;
  /** The writes acknowledged lately (with the `replay` setting). */
  private readonly recent: RecentWrites | undefined;
  /** Whether the data connection is up (between its `ready` and its `close`). */
  private up = false;
  /** When the data connection last dropped. */
  private downSince = 0;
  /** The moment the writes to replay are counted back from (see step 5). */
  private anchor = 0;
  /** When the last failover ended (writes released after a verified switch). */
  private endedAt = -Infinity;

  /**
   * @param client the store's client (an ioredis `Redis` with `sentinels` and `name`)
   * @param sentinel its Sentinel settings (from {@link sentinelSettingsOf})
   * @param warn reports what the guard did (failover seen, writes released on timeout, …)
   * @param maxHoldMs the longest writes are held without a switch or an abort
   * @param replay how far back acknowledged writes are sent again after a switch (step 5);
   *   `undefined`: never
   */
  constructor(
    private readonly client: SentinelClient,
    private readonly sentinel: SentinelSettings,
    private readonly warn: (message: string) => void,
    private readonly maxHoldMs: number,
    replay?: { windowMs: number; maxWrites: number },
  ) {
    this.recent = replay && new RecentWrites(replay.windowMs, replay.maxWrites);
    this.up = client.status === 'ready';
    sentinel.sentinels.forEach((address, index) => {
      // A plain connection to the sentinel, made from the client's own class and settings with
      // everything that only makes sense for the data connection reset.
      const sub = client.duplicate({
        sentinels: undefined,
        name: undefined,
        role: undefined,
        natMap: undefined,
        Connector: undefined,
        path: undefined,
        host: address.host ?? '127.0.0.1',
        port: address.port ?? 26379,
        username: sentinel.username,
        password: sentinel.password,
        tls: sentinel.tls,
        db: 0,
        keyPrefix: '',
        connectionName: 'nest-session:sentinel-events',
        readOnly: false,
        lazyConnect: false,
        enableReadyCheck: false,
        enableOfflineQueue: true,
        enableAutoPipelining: false,
        autoResubscribe: true,
        commandTimeout: undefined,
        retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
        maxRetriesPerRequest: null,
      });
      // A sentinel that is down is retried quietly; the others still report.
      sub.on('error', () => undefined);
      // The subscriptions must never keep the app's process alive.
      sub.on('connect', () => sub.stream?.unref?.());
      sub.on('pmessage', (_pattern: string, channel: string, message: string) =>
        this.onEvent(index, channel, message),
      );
      sub.psubscribe('*').catch(() => undefined);
      this.subscribers.push(sub);
    });
    client.on('ready', () => {
      this.up = true;
      if (this.switching) void this.verify();
    });
    client.on('close', () => {
      if (!this.up) return;
      this.up = false;
      this.downSince = Date.now();
    });
    // The app closed the client for good (quit/disconnect): nothing left to guard.
    client.on('end', () => this.close());
  }

  /** Whether writes are being held now. */
  get holding(): boolean {
    return this.failingOver.size > 0 || this.switching;
  }

  /**
   * Whether reads are held too: from the primary's switch until the replays (step 5) are done,
   * since a read on the new primary before them would miss the writes they restore (and a
   * request would then build on it). Reads go on while the old primary is still in place.
   */
  get holdingReads(): boolean {
    return this.switching && this.recent !== undefined;
  }

  /** Whether acknowledged writes are remembered for a replay (the `replay` setting). */
  get remembers(): boolean {
    return this.recent !== undefined;
  }

  /**
   * Whether a failover is under way or ended less than 30 s ago: a destroy then also leaves a
   * tombstone, so that another instance's replay of the session's creation cannot bring it back.
   */
  get inFailover(): boolean {
    return this.holding || Date.now() - this.endedAt < TOMBSTONE_PERIOD_MS;
  }

  /** Remembers an acknowledged write, to send it again after a switch (with `replay`). */
  remember(replay: Replay): void {
    this.recent?.add(replay);
  }

  /** Holds a write until the failover is over: `resume` sends it then. */
  defer(resume: () => void): void {
    this.held.push(resume);
  }

  /**
   * A write was answered `-READONLY`: the connection is on a replica. Hold writes, reconnect and
   * verify (the write itself did not happen and is held by the caller).
   */
  onReadOnly(): void {
    if (this.closed || this.switching) return;
    this.warn('a write was answered READONLY (the connection is on a replica); reconnecting');
    this.begin();
    this.startSwitch(undefined);
  }

  /** Stops listening and releases whatever is held. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sub of this.subscribers.splice(0)) sub.disconnect();
    this.failingOver.clear();
    this.switching = false;
    this.release();
  }

  private onEvent(sentinelIndex: number, channel: string, message: string): void {
    if (this.closed) return;
    const parts = message.split(' ');
    if (channel === '+switch-master') {
      // "<name> <old-ip> <old-port> <new-ip> <new-port>"
      if (parts[0] !== this.sentinel.name || parts.length < 5) return;
      this.begin();
      this.failingOver.clear();
      this.warn(`Sentinel switched the primary to ${parts[3]}:${parts[4]}; reconnecting`);
      this.startSwitch(this.mapAddress(parts[3] as string, Number(parts[4])));
      return;
    }
    if (masterNameOf(parts) !== this.sentinel.name) return;
    if (channel === '+try-failover' || channel === '+failover-state-send-slaveof-noone') {
      if (!this.holding) this.warn('a Sentinel failover started; holding writes until it ends');
      this.begin();
      this.failingOver.add(sentinelIndex);
      this.armHoldTimer();
    } else if (channel.startsWith('-failover-abort') || channel === '+failover-end-for-timeout') {
      this.failingOver.delete(sentinelIndex);
      if (!this.holding) this.release();
    }
  }

  /** A failover starts (writes not held yet): fixes the moment replays count back from. */
  private begin(): void {
    if (this.holding) return;
    // A primary that died took its last writes with it when the connection dropped, which can
    // be long before the sentinels agree on it (their down-after-milliseconds).
    this.anchor = this.up ? Date.now() : this.downSince;
  }

  private startSwitch(expected: { host: string; port: number } | undefined): void {
    this.switching = true;
    this.expected = expected;
    this.armHoldTimer();
    this.reconnect();
  }

  private reconnect(): void {
    if (this.closed || !this.switching) return;
    // Only a connection that is up is dropped: ioredis then asks the sentinels for the primary
    // again, and 'ready' runs verify(). A client that is still connecting (asking a sentinel, as
    // it is right after a primary dies) must be left alone: `disconnect(true)` at that moment
    // fails the attempt and ends the client for good, every later command failing with
    // "Connection is closed". Its own attempt asks the sentinels anyway, and 'ready' verifies it.
    if (this.client.status !== undefined && this.client.status !== 'ready') return;
    this.client.disconnect(true);
  }

  /** Releases the writes once the connection is the announced primary and says it is a master. */
  private async verify(): Promise<void> {
    if (this.closed || !this.switching) return;
    let ok = false;
    try {
      const stream = this.client.stream;
      const expected = this.expected;
      const where =
        expected === undefined ||
        (stream?.remotePort === expected.port &&
          (isIP(expected.host) === 0 || sameHost(stream.remoteAddress, expected.host)));
      if (where) {
        const role = (await this.client.call('ROLE')) as unknown[] | undefined;
        ok = Array.isArray(role) && role[0] === 'master';
      }
    } catch {
      ok = false;
    }
    if (!this.switching) return;
    if (ok) {
      const expected = this.expected;
      await this.replay();
      // A newer switch (or close) while the replays ran: that one decides.
      if (!this.switching || this.expected !== expected) return;
      this.switching = false;
      this.expected = undefined;
      this.endedAt = Date.now();
      if (!this.holding) this.release();
      return;
    }
    // A sentinel that has not heard of the switch yet named the old primary: ask again soon.
    clearTimeout(this.verifyTimer);
    this.verifyTimer = setTimeout(() => this.reconnect(), 100);
    this.verifyTimer.unref();
  }

  /** Sends the writes acknowledged just before the failover again (step 5), before the held ones. */
  private async replay(): Promise<void> {
    const recent = this.recent;
    if (recent === undefined) return;
    const replays = recent.take(this.anchor - recent.windowMs);
    if (replays.length === 0) return;
    const report = await runReplays(replays);
    this.warn(
      `checked the ${report.checked} writes acknowledged in the ${recent.windowMs} ms before the ` +
        `failover on the new primary: ${report.restored} were missing and are restored, ` +
        `${report.left} were left alone (written since)` +
        (report.failed > 0 ? `, ${report.failed} could not be checked` : ''),
    );
  }

  private armHoldTimer(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      if (!this.holding) return;
      this.warn(
        `no end of the failover was seen within ${this.maxHoldMs} ms; sending the held writes`,
      );
      this.failingOver.clear();
      this.switching = false;
      this.release();
    }, this.maxHoldMs);
    this.holdTimer.unref();
  }

  private release(): void {
    clearTimeout(this.holdTimer);
    clearTimeout(this.verifyTimer);
    this.holdTimer = undefined;
    this.verifyTimer = undefined;
    for (const resume of this.held.splice(0)) resume();
  }

  /** An address as the client connects to it (the client's `natMap` applied). */
  private mapAddress(host: string, port: number): { host: string; port: number } {
    const natMap = this.sentinel.natMap;
    const key = `${host}:${port}`;
    const mapped =
      typeof natMap === 'function'
        ? natMap(key)
        : natMap && typeof natMap === 'object'
          ? natMap[key]
          : undefined;
    return mapped && typeof mapped.host === 'string' && typeof mapped.port === 'number'
      ? { host: mapped.host, port: mapped.port }
      : { host, port };
  }
}

/** The master name a Sentinel event is about (`master <name> …` or `… @ <name> …`). */
function masterNameOf(parts: string[]): string | undefined {
  if (parts[0] === 'master') return parts[1];
  const at = parts.indexOf('@');
  return at >= 0 ? parts[at + 1] : undefined;
}

function sameHost(remote: string | undefined, host: string): boolean {
  if (remote === undefined) return false;
  return remote === host || remote === `::ffff:${host}`;
}

/** A sentinel's address as ioredis lists it in `sentinels`. */
interface SentinelAddress {
  host?: string;
  port?: number;
}

type NatMap =
  | Record<string, { host: string; port: number }>
  | ((key: string) => { host: string; port: number } | null | undefined);

/** The Sentinel settings of a client (read from ioredis's `options`). */
export interface SentinelSettings {
  sentinels: SentinelAddress[];
  name: string;
  username?: string;
  password?: string;
  tls?: object;
  natMap?: NatMap;
}

/** What the guard uses of the store's client: ioredis's `Redis` API. */
export interface SentinelClient {
  readonly options?: unknown;
  /** ioredis's connection state (`'connecting'`, `'ready'`, `'reconnecting'`, `'end'`, …). */
  readonly status?: string;
  readonly stream?: { remoteAddress?: string; remotePort?: number };
  disconnect(reconnect?: boolean): void;
  call(command: string, ...args: string[]): Promise<unknown>;
  on(event: 'end' | 'ready' | 'close', listener: () => void): unknown;
  /** A new client with the same settings but `override`. */
  duplicate(override: Record<string, unknown>): SentinelSubscriber;
}

/** A connection to one sentinel (made with the client's own class). */
interface SentinelSubscriber {
  readonly stream?: { unref?(): void };
  psubscribe(pattern: string): Promise<unknown>;
  on(
    event: 'pmessage',
    listener: (pattern: string, channel: string, message: string) => void,
  ): unknown;
  on(event: 'error' | 'connect', listener: (...args: unknown[]) => void): unknown;
  disconnect(): void;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The Sentinel settings of an ioredis client configured for Sentinel (`sentinels` and `name`,
 * role master), or `undefined` for any other client.
 */
export function sentinelSettingsOf(client: unknown): SentinelSettings | undefined {
  if (!isObject(client)) return undefined;
  const o = client.options;
  if (!isObject(o) || !Array.isArray(o.sentinels) || o.sentinels.length === 0) return undefined;
  if (typeof o.name !== 'string' || (o.role !== undefined && o.role !== 'master')) return undefined;
  if (typeof client.disconnect !== 'function' || typeof client.call !== 'function')
    return undefined;
  return {
    sentinels: o.sentinels as SentinelAddress[],
    name: o.name,
    username: typeof o.sentinelUsername === 'string' ? o.sentinelUsername : undefined,
    password: typeof o.sentinelPassword === 'string' ? o.sentinelPassword : undefined,
    tls: isObject(o.sentinelTLS) ? o.sentinelTLS : undefined,
    natMap: (typeof o.natMap === 'function' || isObject(o.natMap) ? o.natMap : undefined) as
      NatMap | undefined,
  };
}
