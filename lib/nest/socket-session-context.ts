import { WsException } from '@nestjs/websockets';
import { type ContextSessionResolver, registerContextSessionResolver } from './context-session';
import { socketSessionOf } from './socket-session-registry';

/**
 * The `'ws'` execution context: the session is the one read at the client's handshake, and a
 * refusal (`@RequireSession()`, `SessionGuard`) is a `WsException` (Nest answers the client
 * with an `exception` event: `{ status: 'error', message }`).
 */
const wsSessionResolver: ContextSessionResolver = {
  request: (context) => socketSessionOf(context.switchToWs().getClient())?.req,
  reject: (_context, message) => {
    throw new WsException(message);
  },
};

/**
 * Teaches the decorators and the guard gateways. Called at load by the adapters' subpath entry
 * points (`nest-session/socket.io`, `nest-session/ws`), so an application without WebSockets
 * never loads `@nestjs/websockets`.
 * @internal
 */
export function registerWsSessionSupport(): void {
  registerContextSessionResolver('ws', wsSessionResolver);
}
