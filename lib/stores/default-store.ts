import type { DefaultStore } from '../engine/session-options';
import type { StoreLike } from '../engine/store/store-like';
import { MemoryStore } from './memory-store';

const MEMORY_STORE_WARNING =
  'Warning: nest-session is using its in-process MemoryStore in production.\n' +
  'Sessions live in this process only: they are lost on restart and not shared between\n' +
  'instances. Use a shared store such as RedisStore when you run more than one instance.';

function createMemoryStore(): StoreLike {
  return new MemoryStore();
}

/**
 * The engine's default store for the middleware: a new {@link MemoryStore}, with a warning on
 * the console when a MemoryStore is used with `NODE_ENV=production`.
 * @internal
 */
export const MEMORY_STORE_DEFAULT: DefaultStore = {
  create: createMemoryStore,
  check(store) {
    if (process.env.NODE_ENV === 'production' && store instanceof MemoryStore) {
      console.warn(MEMORY_STORE_WARNING);
    }
  },
};

/**
 * A new {@link MemoryStore}, without the console warning (the Nest module logs its own).
 * @internal
 */
export const QUIET_MEMORY_STORE_DEFAULT: DefaultStore = { create: createMemoryStore };
