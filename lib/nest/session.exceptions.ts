import { HttpStatus, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';

/** Thrown by {@link SessionGuard} when the request has no (sufficient) session: 401. */
export class SessionRequiredException extends UnauthorizedException {
  constructor(message = 'A session is required') {
    super(message);
  }
}

/** The session store failed or timed out while loading the session: 503 with `Retry-After`. */
export class SessionStoreUnavailableException extends ServiceUnavailableException {
  /** HTTP status of this exception. */
  static readonly status = HttpStatus.SERVICE_UNAVAILABLE;

  constructor(cause?: unknown) {
    super('Session store unavailable', { cause });
  }
}
