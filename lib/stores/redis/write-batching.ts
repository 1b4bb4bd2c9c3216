import type { RedisClientLike } from './redis-client';

/** A socket whose writes can be held back (`net.Socket`, `tls.TLSSocket`). */
interface Corkable {
  cork(): void;
  uncork(): void;
  writable: boolean;
}

function isCorkable(stream: unknown): stream is Corkable {
  return (
    typeof stream === 'object' &&
    stream !== null &&
    typeof (stream as Corkable).cork === 'function' &&
    typeof (stream as Corkable).uncork === 'function' &&
    (stream as Corkable).writable === true
  );
}

/**
 * Write batching (`batchWrites`): the commands issued during one turn of the event loop leave in
 * one socket write. The client's sockets (a Cluster's: every node's) are corked when the first
 * command of a turn is issued and uncorked in `setImmediate`, at the end of that turn.
 */
export class WriteBatcher {
  /** The sockets held corked until the end of this event-loop turn. */
  private held: Corkable[] | undefined;

  constructor(private readonly client: RedisClientLike) {}

  /** Called before each command: corks the sockets unless this turn already did. */
  hold(): void {
    if (this.held === undefined) this.holdWrites();
  }

  private holdWrites(): void {
    const held: Corkable[] = [];
    const client = this.client as RedisClientLike & { stream?: unknown };
    if (client.isCluster === true) {
      const nodes = (client as { nodes?: (role: 'all') => { stream?: unknown }[] }).nodes;
      if (typeof nodes === 'function') {
        for (const node of nodes.call(client, 'all')) {
          if (isCorkable(node.stream)) held.push(node.stream);
        }
      }
    } else if (isCorkable(client.stream)) {
      held.push(client.stream);
    }
    if (held.length === 0) return;
    for (const stream of held) stream.cork();
    this.held = held;
    setImmediate(this.release);
  }

  /** Sends what {@link WriteBatcher.hold} held back. */
  private readonly release = (): void => {
    const held = this.held;
    this.held = undefined;
    if (held) for (const stream of held) stream.uncork();
  };
}
