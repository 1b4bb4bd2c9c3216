import { Controller, Get } from '@nestjs/common';
import { type RequestSession, Session } from '../../lib';

/** A per-visitor page view counter. */
@Controller('counter')
export class CounterController {
  /** `GET /counter`: counts this visit and returns the count. */
  @Get()
  visit(@Session() session: RequestSession): { visits: number } {
    session.visits = (session.visits ?? 0) + 1;
    return { visits: session.visits };
  }
}
