import { type INestApplication, Module } from '@nestjs/common';
import { SessionIoAdapter } from '../../lib/socket.io';
import { LiveScriptController } from './live.controller';
import { LiveGateway } from './live.gateway';

/** The pages' live channel: the gateway and its script. */
@Module({ controllers: [LiveScriptController], providers: [LiveGateway] })
export class LiveModule {}

/** Runs the app's gateways on socket.io with sessions (call before `listen`/`init`). */
export function useLiveSessions(app: INestApplication): SessionIoAdapter {
  const adapter = new SessionIoAdapter(app);
  app.useWebSocketAdapter(adapter);
  return adapter;
}
