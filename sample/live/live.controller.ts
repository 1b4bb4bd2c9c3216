import { Controller, Get, Header } from '@nestjs/common';
import { LIVE_SCRIPT } from './live-script';

/** Serves the pages' live script (an external file: the pages' CSP allows no inline script). */
@Controller('web')
export class LiveScriptController {
  /** `GET /web/live.js`. */
  @Get('live.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): string {
    return LIVE_SCRIPT;
  }
}
