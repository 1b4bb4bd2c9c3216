import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { CatalogService } from '../cart/catalog';
import { UserSessions } from './user-sessions';
import { WebController, WebRootController } from './web.controller';

/**
 * The sample's server-rendered HTML pages (`/web`): sign in, counter, cart, your devices, sign
 * out. Same session and passport login as the JSON API (AuthModule sets passport up).
 */
@Module({
  imports: [PassportModule.register({ session: true })],
  controllers: [WebController, WebRootController],
  providers: [CatalogService, UserSessions],
})
export class WebModule {}
