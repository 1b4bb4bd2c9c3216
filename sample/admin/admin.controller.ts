import {
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  NotImplementedException,
  Param,
  UseGuards,
} from '@nestjs/common';
import { RequireSession, SessionId, SessionStore } from '../../lib';
import { AdminGuard } from '../auth/current-user';

/** A stored session as the admin sees it. */
export interface SessionSummary {
  id: string;
  /** The signed-in user, or `null` for an anonymous session. */
  user: string | null;
  /** Whether it is the session of this very request. */
  current: boolean;
  expires: string | null;
}

/**
 * Session administration through the injected {@link SessionStore} (whatever store the module
 * runs on). Ids are listed, but a cookie cannot be forged from one without the secret.
 */
@Controller('admin/sessions')
@UseGuards(AdminGuard)
@RequireSession('passport')
export class AdminController {
  constructor(private readonly store: SessionStore) {}

  /** `GET /admin/sessions`: every live session. */
  @Get()
  async list(@SessionId() currentId: string): Promise<{ sessions: SessionSummary[] }> {
    if (!this.store.ids) throw new NotImplementedException('This store cannot list sessions');
    const sessions: SessionSummary[] = [];
    for (const id of await this.store.ids()) {
      const record = await this.store.get(id);
      if (!record) continue; // expired or destroyed meanwhile
      const passport = record.passport as { user?: unknown } | undefined;
      const expires = record.cookie.expires;
      sessions.push({
        id,
        user: typeof passport?.user === 'string' ? passport.user : null,
        current: id === currentId,
        expires: expires ? new Date(expires).toISOString() : null,
      });
    }
    return { sessions };
  }

  /** `DELETE /admin/sessions/:id`: revokes a session (its user is signed out). */
  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id') id: string): Promise<void> {
    if (!(await this.store.get(id))) throw new NotFoundException('No such session');
    await this.store.destroy(id);
  }
}
