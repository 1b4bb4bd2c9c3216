/**
 * Fixture routes for the adversarial suite: session reads and writes, payloads JSON cannot
 * carry, and every shape of response (HEAD, 204, 304, streams, `@Res()` with `res.end(data, cb)`,
 * slow handlers for client aborts, handlers that fail after changing the session).
 */
import {
  Controller,
  Get,
  Header,
  HttpCode,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import type { Response } from 'express';
import { Readable } from 'node:stream';
import { type RequestSession, Session } from '../../lib';

type Bag = Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many `res.end` callbacks ran (see `GET /end-cb`). */
export const endCallbacks = { calls: 0 };

/** Session data without the cookie. */
function dataOf(session: RequestSession): Bag {
  const out: Bag = {};
  for (const [k, v] of Object.entries(session)) if (k !== 'cookie') out[k] = v;
  return out;
}

@Controller()
export class SecurityController {
  /** Counts a visit. */
  @Get('count')
  count(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
    return { visits: s.visits };
  }

  /** Reads the session without changing it. */
  @Get('peek')
  peek(@Session() session: RequestSession) {
    const data = dataOf(session);
    return {
      id: session.id,
      data,
      types: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v])),
    };
  }

  /** Puts values JSON cannot represent faithfully. */
  @Post('lossy')
  @HttpCode(200)
  lossy(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.when = new Date(Date.UTC(2020, 0, 2, 3, 4, 5));
    s.map = new Map([['a', 1]]);
    s.set = new Set([1, 2]);
    s.missing = undefined;
    s.nan = Number.NaN;
    s.big = Number.POSITIVE_INFINITY;
    s.fn = () => 1;
    return { ok: true };
  }

  /** A circular value (after a visible change). */
  @Post('circular')
  circular(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.visits = 999;
    const loop: Bag = {};
    loop.self = loop;
    s.loop = loop;
    return { ok: true };
  }

  /** A BigInt value (after a visible change). */
  @Post('bigint')
  bigint(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.visits = 999;
    s.big = BigInt(10);
    return { ok: true };
  }

  /** A deeply nested value. */
  @Post('deep')
  deep(@Session() session: RequestSession, @Query('depth') depth = '20000') {
    let value: unknown = 'bottom';
    for (let i = 0; i < Number(depth); i++) value = [value];
    const s = session as unknown as Bag;
    s.visits = 999;
    s.deep = value;
    return { ok: true };
  }

  /** A large value of `kb` KiB. */
  @Post('big')
  big(@Session() session: RequestSession, @Query('kb') kb = '64') {
    const s = session as unknown as Bag;
    s.visits = 999;
    s.blob = 'x'.repeat(Number(kb) * 1024);
    return { ok: true };
  }

  /** Counts a visit, for HEAD (the same route answers GET). */
  @Get('head')
  head(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
    return 'a body HEAD does not send';
  }

  /** Counts a visit and answers 204. */
  @Post('no-content')
  @HttpCode(204)
  noContent(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
  }

  /** Counts a visit; the body never changes, so Express answers 304 to a matching ETag. */
  @Get('etag')
  etag(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
    return 'the same body every time';
  }

  /** Counts a visit, then streams the answer in chunks (res.write) with pauses. */
  @Get('stream')
  async stream(@Session() session: RequestSession, @Res() res: Response) {
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
    res.setHeader('Content-Type', 'text/plain');
    for (let i = 0; i < 5; i++) {
      res.write(`chunk${i};`);
      await sleep(10);
    }
    res.end('end');
  }

  /** Counts a visit and answers with a piped stream (chunked). */
  @Get('stream-file')
  @Header('Content-Type', 'text/plain')
  streamFile(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
    return new StreamableFile(Readable.from(['a;', 'b;', 'c;', 'end']));
  }

  /** Counts a visit and ends with `res.end(data, cb)` (or `res.end(data, enc, cb)`). */
  @Get('end-cb')
  endCb(
    @Session() session: RequestSession,
    @Res() res: Response,
    @Query('encoding') encoding?: string,
  ) {
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
    res.setHeader('Content-Type', 'application/json');
    const body = JSON.stringify({ visits: s.visits });
    const done = () => {
      endCallbacks.calls++;
    };
    if (encoding) res.end(body, encoding as BufferEncoding, done);
    else res.end(body, done);
  }

  /** Waits `ms`, then counts a visit. */
  @Get('slow')
  async slow(@Session() session: RequestSession, @Query('ms') ms = '300') {
    await sleep(Number(ms));
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
    return { visits: s.visits };
  }

  /** Waits `ms`, then reads the session without changing it. */
  @Get('slow-peek')
  async slowPeek(@Session() session: RequestSession, @Query('ms') ms = '300') {
    await sleep(Number(ms));
    return { visits: (session as unknown as Bag).visits ?? null };
  }

  /** Destroys the session (sign-out). */
  @Post('logout')
  @HttpCode(200)
  async logout(@Session() session: RequestSession) {
    await session.destroy();
    return { signedOut: true };
  }

  /** Counts a visit, then streams slowly (for aborts mid-body). */
  @Get('slow-stream')
  async slowStream(@Session() session: RequestSession, @Res() res: Response) {
    const s = session as unknown as Bag;
    s.visits = ((s.visits as number | undefined) ?? 0) + 1;
    for (let i = 0; i < 10; i++) {
      if (res.destroyed) break;
      res.write(`chunk${i};`);
      await sleep(30);
    }
    res.end();
  }

  /** Changes the session, then fails (500). */
  @Post('boom')
  boom(@Session() session: RequestSession) {
    const s = session as unknown as Bag;
    s.visits = 1000;
    s.evil = true;
    throw new Error('handler failed after changing the session');
  }
}
