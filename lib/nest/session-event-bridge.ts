import type { ModuleRef } from '@nestjs/core';
import {
  SESSION_EVENT_NAMES,
  type SessionEventHooks,
  type SessionEventName,
} from '../engine/session-events';

interface Emitter {
  emit(event: string, payload: unknown): unknown;
}

/** `@nestjs/event-emitter`'s EventEmitter2 class, when that optional package is installed. */
function eventEmitterClass(): unknown {
  try {
    // An optional peer: loaded only if present, so apps without it need not install it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@nestjs/event-emitter') as { EventEmitter2?: unknown }).EventEmitter2;
  } catch {
    return undefined;
  }
}

/**
 * The module's event hooks: the user's `events` hooks, plus an emit through the application's
 * `EventEmitter2` (from `EventEmitterModule.forRoot()`) when there is one, under the names of
 * {@link SESSION_EVENT_NAMES} (`session.created`, `session.saved`, …).
 * @internal
 */
export function bridgeSessionEvents(
  hooks: SessionEventHooks | undefined,
  moduleRef: ModuleRef,
): SessionEventHooks | undefined {
  const emitterClass = eventEmitterClass();
  if (!emitterClass) return hooks;
  let emitter: Emitter | null | undefined;
  const resolve = (): Emitter | null => {
    if (emitter === undefined) {
      try {
        emitter = moduleRef.get(emitterClass as never, { strict: false }) as Emitter;
      } catch {
        emitter = null; // EventEmitterModule is not imported by the application
      }
    }
    return emitter;
  };
  const bridged: Record<string, (event: never) => void> = {};
  for (const name of Object.keys(SESSION_EVENT_NAMES) as SessionEventName[]) {
    const own = hooks?.[name] as ((event: unknown) => void) | undefined;
    bridged[name] = (event: never) => {
      own?.(event);
      resolve()?.emit(SESSION_EVENT_NAMES[name], event);
    };
  }
  return bridged as SessionEventHooks;
}
