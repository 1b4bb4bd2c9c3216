import { Injectable } from '@nestjs/common';
import { type SessionRecord, SessionService } from '../../lib';

/** One stored session of a user. */
export interface StoredUserSession {
  id: string;
  record: SessionRecord;
}

/**
 * A user's sessions, through the library's {@link SessionService} (the stores keep a per-user
 * index, keyed by the passport user: see `userKey` in app.module.ts).
 */
@Injectable()
export class UserSessions {
  constructor(private readonly sessions: SessionService) {}

  /** The live sessions of `username`. */
  async list(username: string): Promise<StoredUserSession[]> {
    const list = await this.sessions.listForUser(username);
    return list.map(({ id, session }) => ({ id, record: session }));
  }

  /** Destroys every session of `username` but `keepId`; resolves how many were destroyed. */
  destroyOthers(username: string, keepId: string): Promise<number> {
    return this.sessions.destroyForUser(username, { except: keepId });
  }
}
