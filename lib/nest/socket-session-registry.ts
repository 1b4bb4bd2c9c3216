import type { SocketSession } from '../engine/lifecycle/socket-session';
import type { RequestSession } from '../engine/session';

/** Each connected client (a socket.io `Socket`, a `ws` WebSocket) → its handshake's session. */
const sessions = new WeakMap<object, SocketSession>();

/** Records the session read at `client`'s handshake (by the session adapters). @internal */
export function bindSocketSession(client: object, session: SocketSession): void {
  sessions.set(client, session);
}

/** The handshake state of `client`, or `undefined` (not connected through a session adapter). @internal */
export function socketSessionOf(client: unknown): SocketSession | undefined {
  return typeof client === 'object' && client !== null ? sessions.get(client) : undefined;
}

/**
 * The session of a socket connected through `SessionIoAdapter` or `SessionWsAdapter`: for
 * `handleConnection(client)` and other code without the decorators. `undefined` when the
 * handshake carried no valid existing session, or once the session was destroyed.
 *
 * ```ts
 * handleConnection(client: Socket) {
 *   const userId = sessionOf(client)?.userId;
 * }
 * ```
 */
export function sessionOf(client: object): RequestSession | undefined {
  const state = sessions.get(client);
  return state?.exists ? (state.req.session ?? undefined) : undefined;
}
