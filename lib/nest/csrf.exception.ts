import { ForbiddenException } from '@nestjs/common';

/** Why {@link CsrfGuard} refused a request. */
export type CsrfFailure = 'missing' | 'invalid';

/**
 * Thrown by {@link CsrfGuard}: 403, Nest's usual JSON body, with a message saying what was wrong
 * (`reason`: no token, or one that does not belong to this session).
 */
export class CsrfTokenException extends ForbiddenException {
  constructor(
    /** What was wrong with the request's token. */
    readonly reason: CsrfFailure,
    message: string,
  ) {
    super(message);
  }
}
