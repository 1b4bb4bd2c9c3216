/**
 * `nest-session/socket.io`: sessions in socket.io gateways. Loads `@nestjs/platform-socket.io`
 * (an optional peer), so it is a subpath of its own.
 */
import { registerWsSessionSupport } from '../nest/socket-session-context';

registerWsSessionSupport();

export { SessionIoAdapter } from './session-io.adapter';
export { sessionOf } from '../nest/socket-session-registry';
export type { SocketSessionOptions } from '../nest/socket-session-tracker';
