import { applyDecorators, UseGuards } from '@nestjs/common';
import type { SessionData } from '../engine/session-data';
import {
  REQUIRED_SESSION_KEYS as requiredKeys,
  SESSION_OPTIONAL as optional,
} from './session-metadata';
import { SessionGuard } from './session.guard';

/**
 * Requires an existing session holding the given keys (e.g. `@RequireSession('userId')`) on a
 * handler or a whole controller; applies {@link SessionGuard}. Keys from the controller and the
 * handler add up.
 */
export function RequireSession(
  ...keys: (keyof SessionData & string)[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(requiredKeys(keys), UseGuards(SessionGuard));
}
RequireSession.KEY = requiredKeys.KEY;

/** Marks a handler or controller as not needing a session when {@link SessionGuard} is global. */
export function OptionalSession(): MethodDecorator & ClassDecorator {
  return optional(true);
}
OptionalSession.KEY = optional.KEY;
