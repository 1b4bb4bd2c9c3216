import { Inject, Injectable } from '@nestjs/common';
import type { SessionRecord } from '../engine/session-data';
import type { SessionEngine } from '../engine/lifecycle/session-engine';
import { sessionUser } from '../engine/session-user';
import { SessionStore } from '../stores/session-store';
import { SESSION_ENGINE } from './session.constants';

/** One of a user's sessions, as {@link SessionService.listForUser} returns it. */
export interface UserSession {
  /** The session id. */
  id: string;
  /** The stored session (data and cookie). */
  session: SessionRecord;
}

/** Options of {@link SessionService.destroyForUser}. */
export interface DestroyForUserOptions {
  /** A session id to keep (typically the current one: "sign out everywhere else"). */
  except?: string;
}

/**
 * A user's sessions: list them ("your devices") and revoke them ("sign out everywhere").
 * Needs the `userKey` option. Uses the store's per-user index (MemoryStore, RedisStore); with a
 * store without one it scans every session (`ids()` + `get()`), which is fine for small stores.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly store: SessionStore,
    @Inject(SESSION_ENGINE) private readonly engine: SessionEngine,
  ) {}

  /** The live sessions of `userId`. */
  async listForUser(userId: string | number): Promise<UserSession[]> {
    const user = String(userId);
    const userKey = this.userKey();
    const ids = await this.candidateIds(user);
    const sessions = await Promise.all(ids.map((id) => this.store.get(id)));
    const out: UserSession[] = [];
    sessions.forEach((session, i) => {
      // Double-check ownership: the index only says which ids to look at.
      if (session && sessionUser(userKey, session) === user)
        out.push({ id: ids[i] as string, session });
    });
    return out;
  }

  /** Destroys every session of `userId` (but `except`); resolves how many were destroyed. */
  async destroyForUser(
    userId: string | number,
    options: DestroyForUserOptions = {},
  ): Promise<number> {
    const sessions = await this.listForUser(userId);
    const doomed = sessions.filter((s) => s.id !== options.except);
    await Promise.all(doomed.map((s) => this.store.destroy(s.id)));
    return doomed.length;
  }

  private userKey() {
    const userKey = this.engine.options.userKey;
    if (!userKey) {
      throw new Error(
        'nest-session: SessionService needs the userKey option (how to find the user in a session)',
      );
    }
    return userKey;
  }

  private async candidateIds(user: string): Promise<string[]> {
    if (typeof this.store.userSessionIds === 'function') return this.store.userSessionIds(user);
    if (typeof this.store.ids === 'function') return this.store.ids();
    throw new Error('nest-session: the session store can neither index nor list sessions');
  }
}
