/**
 * RedisStore's expiry events: a subscription to Redis keyspace notifications
 * (`__keyevent@<db>__:expired`) on a connection of its own per Redis server (every node of a
 * Cluster: notifications are local to the node that expired the key), turning each expired
 * session key into a call of `onExpired(sid)`.
 */

/** The subscriber connection (an ioredis `Redis` made with `duplicate`). */
interface Subscriber {
  on(event: string, listener: (...args: string[]) => void): unknown;
  subscribe(channel: string): Promise<unknown>;
  disconnect(): void;
  stream?: { unref?(): void };
}

/** A connection to one Redis server: the store's client, or one node of its Cluster. */
interface ServerClient {
  duplicate(override: Record<string, unknown>): Subscriber;
  config(op: 'GET', name: string): Promise<unknown>;
  config(op: 'SET', name: string, value: string): Promise<unknown>;
  options?: { host?: string; port?: number; db?: number; keyPrefix?: string };
}

/** The store's client as the listener sees it (ioredis `Redis` or `Cluster`). */
interface ListenedClient {
  isCluster?: boolean;
  options?: { db?: number; keyPrefix?: string };
  nodes?(role: 'all'): ServerClient[];
  on(event: string, listener: (...args: never[]) => void): unknown;
  off?(event: string, listener: (...args: never[]) => void): unknown;
}

/** What the listener needs to know. */
export interface ExpiryListenerSettings {
  /** The store's client. */
  readonly client: unknown;
  /** `'configure'`: turn the notifications on (`CONFIG SET`); `'preconfigured'`: only check. */
  readonly mode: 'configure' | 'preconfigured';
  readonly prefix: string;
  readonly userPrefix: string;
  readonly expiryPrefix: string;
}

const SETTING = 'notify-keyspace-events';

/** The flags `notify-keyspace-events` must hold for `expired` key-event notifications. */
function missingFlags(current: string): string {
  let missing = current.includes('E') ? '' : 'E';
  if (!current.includes('x') && !current.includes('A')) missing += 'x';
  return missing;
}

function addressOf(server: ServerClient): string {
  const o = server.options ?? {};
  return `${o.host ?? 'localhost'}:${o.port ?? 6379}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Listens for the store's expired sessions (see the file's notes). */
export class RedisExpiryListener {
  private readonly subscribers = new Map<ServerClient, Subscriber>();
  private readonly client: ListenedClient;
  private readonly keyPrefix: string;
  private readonly channel: string;
  private closed = false;
  private readonly onNodeAdded = (node: ServerClient) => this.listenOn(node);
  private readonly onNodeRemoved = (node: ServerClient) => this.stopOn(node);
  private readonly onEnd = () => this.close();

  /**
   * @param settings the store's prefixes, client and mode
   * @param onExpired called with the id of each session key Redis expired
   * @param warn reports what went wrong (a refused `CONFIG SET`, notifications not enabled)
   */
  constructor(
    private readonly settings: ExpiryListenerSettings,
    private readonly onExpired: (sid: string) => void,
    private readonly warn: (message: string) => void,
  ) {
    this.client = settings.client as ListenedClient;
    this.keyPrefix = this.client.options?.keyPrefix ?? '';
    this.channel = `__keyevent@${this.client.isCluster ? 0 : (this.client.options?.db ?? 0)}__:expired`;
    if (this.client.isCluster) {
      // Every node, replicas included: a replica expires nothing (its master's DEL reaches it as
      // `del`), and is already listened to when it is promoted.
      for (const node of this.client.nodes?.('all') ?? []) this.listenOn(node);
      this.client.on('+node', this.onNodeAdded);
      this.client.on('-node', this.onNodeRemoved);
    } else {
      this.listenOn(this.client as unknown as ServerClient);
    }
    // The app closed the client for good (quit/disconnect): nothing left to listen to.
    this.client.on('end', this.onEnd);
  }

  /** Closes the subscriptions. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.off?.('+node', this.onNodeAdded);
    this.client.off?.('-node', this.onNodeRemoved);
    this.client.off?.('end', this.onEnd);
    for (const sub of this.subscribers.values()) sub.disconnect();
    this.subscribers.clear();
  }

  private listenOn(server: ServerClient): void {
    if (this.closed || this.subscribers.has(server)) return;
    const sub = server.duplicate({
      keyPrefix: '',
      connectionName: 'nest-session:expiry-events',
      lazyConnect: false,
      enableReadyCheck: true,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      autoResubscribe: true,
      commandTimeout: undefined,
      maxRetriesPerRequest: null,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    });
    this.subscribers.set(server, sub);
    // A server that is down is retried quietly; the store's own commands report the outage.
    sub.on('error', () => undefined);
    // The subscription must never keep the app's process alive.
    sub.on('connect', () => sub.stream?.unref?.());
    // A restarted server forgot a CONFIG SET: (re)configure whenever the subscriber connects.
    sub.on('ready', () => void this.configure(server));
    sub.on('message', (_channel: string, key: string) => this.receive(key));
    sub.subscribe(this.channel).catch(() => undefined);
  }

  private stopOn(server: ServerClient): void {
    const sub = this.subscribers.get(server);
    if (!sub) return;
    this.subscribers.delete(server);
    sub.disconnect();
  }

  /** Turns the notifications on (`'configure'`), or checks that they are on (`'preconfigured'`). */
  private async configure(server: ServerClient): Promise<void> {
    let current: string;
    try {
      const reply = (await server.config('GET', SETTING)) as unknown[];
      current = String(reply?.[1] ?? '');
    } catch (err) {
      if (this.settings.mode === 'configure') {
        this.warn(
          `expiryEvents: CONFIG GET ${SETTING} failed on ${addressOf(server)} (${messageOf(err)}); ` +
            `set ${SETTING} to include "Ex" on the server and use expiryEvents: 'preconfigured'`,
        );
      }
      return; // 'preconfigured': CONFIG may be forbidden; trust the setting.
    }
    const missing = missingFlags(current);
    if (!missing || this.closed) return;
    if (this.settings.mode === 'preconfigured') {
      this.warn(
        `expiryEvents: ${SETTING} is "${current}" on ${addressOf(server)}, without "${missing}": ` +
          `no expiry will be reported (set it to include "Ex", or use expiryEvents: 'configure')`,
      );
      return;
    }
    try {
      await server.config('SET', SETTING, current + missing);
    } catch (err) {
      this.warn(
        `expiryEvents: CONFIG SET ${SETTING} was refused by ${addressOf(server)} ` +
          `(${messageOf(err)}); set it to include "Ex" on the server and use ` +
          `expiryEvents: 'preconfigured'`,
      );
    }
  }

  private receive(fullKey: string): void {
    if (this.closed || !fullKey.startsWith(this.keyPrefix)) return;
    const key = fullKey.slice(this.keyPrefix.length);
    const s = this.settings;
    if (
      !key.startsWith(s.prefix) ||
      key.startsWith(s.expiryPrefix) ||
      key.startsWith(s.userPrefix)
    ) {
      return;
    }
    this.onExpired(key.slice(s.prefix.length));
  }
}
