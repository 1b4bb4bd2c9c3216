import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import {
  type FlashMap,
  type FlashMessages,
  type FlashType,
  addFlash,
  takeFlash,
} from '../engine/flash';
import type { IncomingMessage } from 'node:http';
import type { SessionRequest } from '../engine/session';

/**
 * The request's flash messages, typed by your {@link FlashMessages} augmentation (what
 * `@Flash()` injects, and {@link flashOf} returns). Same storage and rules as `req.flash`, so
 * both can be mixed (passport flashes through `req.flash`, your handler reads here).
 */
export interface FlashBag {
  /**
   * Appends a message (an array: each of its values) for the next request to read; returns how
   * many messages of that type are waiting. Creates the session if there was none.
   */
  add<K extends FlashType>(
    type: K,
    message: FlashMessages[K] | readonly FlashMessages[K][],
  ): number;
  /** Appends `util.format(format, ...args)` (for string messages). */
  add<K extends FlashType>(
    type: K,
    format: Extract<FlashMessages[K], string>,
    ...args: unknown[]
  ): number;
  /** Returns the messages of `type` and removes them (`[]` when none). */
  take<K extends FlashType>(type: K): FlashMessages[K][];
  /** Returns every waiting message by type and removes them all. */
  takeAll(): FlashMap;
}

class RequestFlashBag implements FlashBag {
  constructor(private readonly req: SessionRequest) {}

  add(type: string, message: unknown, ...args: unknown[]): number {
    return addFlash(this.req, type, message, args);
  }

  take<K extends FlashType>(type: K): FlashMessages[K][] {
    return takeFlash(this.req, type) as FlashMessages[K][];
  }

  takeAll(): FlashMap {
    return takeFlash(this.req) as FlashMap;
  }
}

/**
 * The flash messages of `req` as a typed {@link FlashBag}: for exception filters, guards and
 * interceptors, where a parameter decorator cannot reach.
 */
export function flashOf(req: IncomingMessage): FlashBag {
  return new RequestFlashBag(req as SessionRequest);
}

const flashParam = createParamDecorator((type: FlashType | undefined, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<SessionRequest>();
  return type === undefined ? flashOf(req) : takeFlash(req, type);
});

/**
 * Injects the request's flash messages: `@Flash()` the typed {@link FlashBag} (add, take),
 * `@Flash('error')` the messages of one type, read and removed (type it `FlashMessages['error'][]`).
 *
 * ```ts
 * @Post('cart') add(@Flash() flash: FlashBag) { flash.add('success', 'Added %d items', 3); }
 * @Get('cart') show(@Flash('success') notices: FlashMessages['success'][]) {}
 * ```
 *
 * Types and their message types come from your {@link FlashMessages} augmentation.
 */
export function Flash(): ParameterDecorator;
export function Flash<K extends FlashType>(type: K): ParameterDecorator;
export function Flash(type?: FlashType): ParameterDecorator {
  return type === undefined ? flashParam() : flashParam(type);
}
