/**
 * Flash messages: values kept in the session until they are read once (a notice shown after a
 * redirect). connect-flash's contract on `req.flash`, so passport's `failureFlash` and
 * `successFlash` work without connect-flash, and connect-flash's storage (`session.flash`: an
 * object of arrays by type), so sessions it wrote are read as they are.
 */
import { format } from 'node:util';
import { requestState } from './request-state';
import type { RequestFlash, SessionRequest } from './session';
import { FLASH_KEY } from './session-data';

export type { RequestFlash };

/**
 * The flash message types and the type of their messages. Augment it to add your own (the same
 * way as `SessionData`):
 *
 * ```ts
 * declare module 'nest-session' {
 *   interface FlashMessages { warning: string; formError: { field: string; text: string } }
 * }
 * ```
 *
 * `error` and `success` are the types passport's `failureFlash` and `successFlash` use.
 */
export interface FlashMessages {
  /** Errors (passport's `failureFlash`). */
  error: string;
  /** Confirmations (passport's `successFlash`). */
  success: string;
  /** Notices. */
  info: string;
}

/** A flash message type: a key of {@link FlashMessages}. */
export type FlashType = keyof FlashMessages & string;

/** Every pending message, by type (what reading them all returns). */
export type FlashMap = { [K in FlashType]?: FlashMessages[K][] };

/** What flash reads of the request's engine state (the request's context implements it). */
interface FlashState {
  /** The session is still to be created on first access (nothing can be waiting in it). */
  readonly lazy?: boolean;
  /** The last waiting message was read: a session left holding nothing is not to be kept. */
  onFlashDrained?(): void;
}

type Box = Record<string, unknown[]>;

function noSession(): never {
  throw new Error(
    'req.flash() needs a session, and this request has none: install the session middleware ' +
      '(SessionModule, or app.use(session(...))) on this route, before anything that flashes; ' +
      'after session.destroy(), regenerate() a session to flash into',
  );
}

function boxOf(session: object): Box | undefined {
  const box = (session as { [FLASH_KEY]?: unknown })[FLASH_KEY];
  return typeof box === 'object' && box !== null && !Array.isArray(box) ? (box as Box) : undefined;
}

/** Appends to `type`'s messages; the session is created when it did not exist. */
export function addFlash(
  req: SessionRequest,
  type: string,
  message: unknown,
  args: readonly unknown[] = [],
): number {
  const session = req.session;
  if (!session) return noSession();
  const data = session as unknown as Record<string, unknown>;
  const box = boxOf(session) ?? {};
  const list = Array.isArray(box[type]) ? [...(box[type] as unknown[])] : [];
  if (args.length > 0) list.push(format(message, ...args));
  else if (Array.isArray(message)) list.push(...(message as unknown[]));
  else list.push(message);
  // A new object each time: the session's change detection and merge patches see the change.
  data[FLASH_KEY] = { ...box, [type]: list };
  return list.length;
}

/**
 * Removes and returns the messages of `type`, or every message by type when `type` is
 * undefined. Reading never creates a session nor a `flash` key; reading the last messages
 * removes the key and tells the engine (a session then holding nothing is not kept).
 */
export function takeFlash(req: SessionRequest, type?: string): unknown[] | Box {
  const state = requestState<FlashState>(req);
  if (state?.lazy) return type === undefined ? {} : []; // no session yet: nothing waits
  const session = req.session;
  if (!session) return noSession();
  const box = boxOf(session);
  if (!box) return type === undefined ? {} : [];
  const data = session as unknown as Record<string, unknown>;
  let taken: unknown[] | Box;
  let rest: Box = {};
  if (type === undefined) {
    taken = box;
  } else {
    const { [type]: messages, ...others } = box;
    taken = Array.isArray(messages) ? messages : [];
    rest = others;
    if (messages === undefined) return taken;
  }
  if (Object.keys(rest).length > 0) {
    data[FLASH_KEY] = rest;
  } else {
    delete data[FLASH_KEY];
    state?.onFlashDrained?.();
  }
  return taken;
}

/** `req.flash` (see {@link RequestFlash}); `this` is the request. */
export const flash = function flash(
  this: SessionRequest,
  type?: string,
  message?: unknown,
  ...args: unknown[]
): unknown {
  // Called detached, `this` is undefined (or, in sloppy mode, the global object): not a request.
  if (typeof this?.headers !== 'object') {
    throw new TypeError('req.flash must be called on the request: req.flash(type, message)');
  }
  if (type !== undefined && message !== undefined) return addFlash(this, type, message, args);
  return takeFlash(this, type);
} as RequestFlash;

/** Defines `req.flash` (unless the request already has one, connect-flash's for example). */
export function installFlash(req: SessionRequest): void {
  const target = req as SessionRequest & { flash?: unknown };
  if (typeof target.flash !== 'function') target.flash = flash;
}
