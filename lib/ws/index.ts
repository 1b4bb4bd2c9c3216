/**
 * `nest-session/ws`: sessions in gateways on the `ws` library. Loads `@nestjs/platform-ws` (an
 * optional peer), so it is a subpath of its own.
 */
import { registerWsSessionSupport } from '../nest/socket-session-context';

registerWsSessionSupport();

export { SessionWsAdapter, SESSION_ENDED_CLOSE_CODE } from './session-ws.adapter';
export { sessionOf } from '../nest/socket-session-registry';
export type { SocketSessionOptions } from '../nest/socket-session-tracker';
