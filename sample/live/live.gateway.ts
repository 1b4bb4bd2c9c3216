import { type OnGatewayConnection, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Session, type SessionValue } from '../../lib';
import { sessionOf } from '../../lib/socket.io';

/** What the page shows: who the socket's session belongs to (`null`: not signed in). */
export interface LiveStatus {
  user: string | null;
}

/**
 * The pages' live channel (socket.io on the HTTP server, path `/socket.io/`). The session comes
 * from the page's cookie at the handshake (SessionIoAdapter, see `useLiveSessions`); when the
 * session ends anywhere (sign-out in another tab, "sign out everywhere else" on another device,
 * on any instance sharing the Redis), the adapter disconnects the socket and the page says so.
 */
@WebSocketGateway()
export class LiveGateway implements OnGatewayConnection {
  /** Tells a newly connected page who it is signed in as. */
  handleConnection(client: { emit(event: string, status: LiveStatus): unknown }): void {
    const user = sessionOf(client)?.passport?.user ?? null;
    client.emit('status', { user } satisfies LiveStatus);
  }

  /** `status`: the same, on request. */
  @SubscribeMessage('status')
  status(@Session('passport') passport: SessionValue<'passport'>): {
    event: string;
    data: LiveStatus;
  } {
    return { event: 'status', data: { user: passport?.user ?? null } };
  }
}
