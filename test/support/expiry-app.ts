/**
 * A real Nest application for the `expiry-*` e2e suites: `POST /login` puts `userId` in the
 * session and answers its id, `GET /me` reads it; every `expired` event is collected, from the
 * `events.expired` hook and from `@OnEvent('session.expired')` (`@nestjs/event-emitter`).
 */
import request from 'supertest';
import {
  Body,
  Controller,
  Get,
  type INestApplication,
  Injectable,
  Module,
  Post,
} from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import {
  type RequestSession,
  Session,
  SessionId,
  SessionModule,
  type SessionEventMap,
  type SessionModuleOptions,
} from '../../lib';
import { eventually } from './eventually';
import { type HttpAdapterKind, createAppOn, initApp } from './http-adapters';

export const EXPIRY_SECRET = 'an-expiry-test-secret-long-enough-12345';

export type ExpiredEvent = SessionEventMap['expired'];

/** What an expiry app reports. */
export interface ExpiryApp {
  app: INestApplication;
  /** From the `events.expired` hook. */
  hooked: ExpiredEvent[];
  /** From `@OnEvent('session.expired')`. */
  emitted: ExpiredEvent[];
}

@Controller()
class ExpiryController {
  @Post('login') login(
    @Session() s: RequestSession & { userId?: string },
    @SessionId() id: string,
    @Body() body: { user?: string },
  ) {
    s.userId = body?.user ?? 'alice';
    return { id };
  }
  @Get('me') me(@Session() s: RequestSession & { userId?: string }, @SessionId() id: string) {
    return { id, user: s.userId ?? null };
  }
}

/** Boots an application on `kind` with these session options (`userKey: 'userId'`). */
export async function bootExpiryApp(
  kind: HttpAdapterKind,
  session: Partial<SessionModuleOptions>,
): Promise<ExpiryApp> {
  const hooked: ExpiredEvent[] = [];
  const emitted: ExpiredEvent[] = [];
  @Injectable()
  class ExpiryAudit {
    @OnEvent('session.expired') expired(event: ExpiredEvent) {
      emitted.push(event);
    }
  }
  @Module({
    imports: [
      EventEmitterModule.forRoot(),
      SessionModule.forRoot({
        secret: EXPIRY_SECRET,
        userKey: 'userId',
        ...session,
        events: { expired: (event) => hooked.push(event) },
      }),
    ],
    controllers: [ExpiryController],
    providers: [ExpiryAudit],
  })
  class ExpiryAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ExpiryAppModule] }).compile();
  const app = await initApp(createAppOn(moduleRef, kind));
  return { app, hooked, emitted };
}

/** The `Cookie` header that carries a response's session cookie back. */
export function cookieOf(res: { headers: Record<string, unknown> }): string {
  const lines = res.headers['set-cookie'] as string[] | undefined;
  const line = lines?.find((l) => l.startsWith('sid='));
  if (!line) throw new Error('no session cookie in the response');
  return line.split(';')[0] as string;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Logs in `count` sessions, alternating between the instances: `user-0`, `user-1`, … */
export async function loginUsers(instances: ExpiryApp[], count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const via = instances[i % instances.length] as ExpiryApp;
    const res = await request(via.app.getHttpServer())
      .post('/login')
      .send({ user: `user-${i}` })
      .expect(201);
    ids.push(res.body.id as string);
  }
  return ids;
}

/**
 * Waits until the sessions `ids` (logged in as `user-<index>`) were all reported by the
 * instances together, then for the report of one more session that expires after them (by
 * then every earlier notification has been handled by every instance), and asserts that each
 * was reported exactly once, with its user, by the store.
 */
export async function expectEachReportedOnce(
  instances: ExpiryApp[],
  ids: string[],
  ms: number,
): Promise<void> {
  const all = () => instances.flatMap((i) => i.hooked);
  expect(await eventually(async () => all().length >= ids.length, ms)).toBe(true);
  const server = (instances[0] as ExpiryApp).app.getHttpServer();
  const marker = await request(server).post('/login').send({ user: 'last' });
  expect(await eventually(async () => all().some((e) => e.sessionId === marker.body.id), ms)).toBe(
    true,
  );
  const reported = all().filter((e) => e.sessionId !== marker.body.id);
  expect(reported.map((e) => e.sessionId).sort()).toEqual([...ids].sort());
  for (const [i, id] of ids.entries()) {
    expect(reported.find((e) => e.sessionId === id)).toMatchObject({
      userId: `user-${i}`,
      source: 'store',
    });
  }
}
