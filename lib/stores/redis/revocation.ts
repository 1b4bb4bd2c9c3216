import type { RevocationSubscription } from '../../engine/store/store-like';
import { messageOf } from './errors';

/**
 * The pub/sub commands revocation uses, as ioredis (`Redis` and `Cluster`) declares them. Not
 * part of {@link RedisCommands}: a client without them simply does not report revocations.
 */
export interface RedisPubSubClient {
  /** `PUBLISH channel message`. */
  publish?(channel: string, message: string): Promise<unknown>;
  /** A new connection with the same settings (a subscriber cannot send other commands). */
  duplicate?(): RedisSubscriber;
}

/** The duplicated connection that subscribes. */
export interface RedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  disconnect(): void;
}

/**
 * Revocation over Redis pub/sub: each destroy publishes the session id on one channel derived
 * from the store's prefix (`<prefix>revoked`), and every process sharing the store hears it on a
 * single subscriber connection (a `duplicate()` of the store's client, opened on the first
 * listener). Pub/sub needs no server configuration (keyspace notifications would need
 * `CONFIG SET notify-keyspace-events`, which managed Redis services often forbid). A message is
 * delivered at most once, to the subscribers connected at that moment: a process that is
 * disconnected from Redis then misses it (its sockets find out at their next save or reload).
 */
export class RedisRevocations {
  /** The channel: `<prefix>revoked`. */
  readonly channel: string;
  private subscriber: RedisSubscriber | undefined;
  private subscribed: Promise<void> | undefined;
  private readonly listeners = new Set<(sid: string) => void>();
  private readonly client: RedisPubSubClient;

  /**
   * @param client the store's client (any: one without `publish`/`duplicate` reports nothing)
   * @param prefix the store's key prefix
   * @param warn how the store reports a problem
   */
  constructor(
    client: object,
    prefix: string,
    private readonly warn: (message: string) => void,
  ) {
    this.client = client as RedisPubSubClient;
    this.channel = `${prefix}revoked`;
  }

  /** Publishes `sid` (best effort: a failure is a warning; the destroy itself succeeded). */
  publish(sid: string): void {
    if (typeof this.client.publish !== 'function') return;
    this.client
      .publish(this.channel, sid)
      .catch((err: unknown) => this.warn(`could not publish a revocation: ${messageOf(err)}`));
  }

  /** Adds a listener; the first one opens the subscriber connection. */
  subscribe(listener: (sid: string) => void): RevocationSubscription {
    this.listeners.add(listener);
    const ready = this.open();
    return { ready, close: () => this.remove(listener) };
  }

  /** Closes the subscriber connection. */
  close(): void {
    this.listeners.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.subscribed = undefined;
  }

  private open(): Promise<void> {
    if (this.subscribed) return this.subscribed;
    if (typeof this.client.duplicate !== 'function') {
      return Promise.reject(new Error('RedisStore: the client cannot duplicate() a subscriber'));
    }
    const subscriber = this.client.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (err) => this.warn(`revocation subscriber: ${messageOf(err)}`));
    subscriber.on('message', (channel, message) => {
      if (channel !== this.channel) return;
      for (const listener of this.listeners) listener(message);
    });
    const subscribed = subscriber.subscribe(this.channel).then(() => undefined);
    this.subscribed = subscribed;
    subscribed.catch(() => undefined);
    return subscribed;
  }

  private remove(listener: (sid: string) => void): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.close();
  }
}
