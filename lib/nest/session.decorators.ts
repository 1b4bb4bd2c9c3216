import {
  createParamDecorator,
  type ExecutionContext,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import type { SessionData } from '../engine/session-data';
import type { RequestSession } from '../engine/session';
import { contextSessionResolver } from './context-session';

/** The type `@Session(key)` injects: the (augmented) {@link SessionData} value, possibly absent. */
export type SessionValue<K extends keyof SessionData> = SessionData[K] | undefined;

const sessionParam = createParamDecorator((key: string | undefined, ctx: ExecutionContext) => {
  const session = contextSessionResolver(ctx).request(ctx)?.session;
  if (key === undefined) return session;
  return session ? (session as unknown as Record<string, unknown>)[key] : undefined;
});

const sessionIdParam = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => contextSessionResolver(ctx).request(ctx)?.sessionID,
);

type Pipe = Type<PipeTransform> | PipeTransform;

/**
 * Injects the request's session (`Session & Partial<SessionData>`, see {@link RequestSession}),
 * or with a key one of its values (type it as {@link SessionValue}):
 *
 * ```ts
 * @Get('me') me(@Session('userId') userId: SessionValue<'userId'>) {}
 * @Post('cart') add(@Session() session: RequestSession) { session.cart = [...(session.cart ?? []), id]; }
 * ```
 *
 * Keys are checked against your {@link SessionData} augmentation. Import it from `nest-session`
 * (Nest's own `@Session()` from `@nestjs/common` also works: `req.session` is the same object).
 */
export function Session(): ParameterDecorator;
export function Session<K extends keyof SessionData>(key: K, ...pipes: Pipe[]): ParameterDecorator;
export function Session(key?: string, ...pipes: Pipe[]): ParameterDecorator {
  return key === undefined ? sessionParam() : sessionParam(key, ...pipes);
}

/** Injects the session id (`req.sessionID`). */
export function SessionId(): ParameterDecorator {
  return sessionIdParam();
}

export type { RequestSession };
