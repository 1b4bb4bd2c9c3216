/**
 * The Connect-style middleware (`node:http`, Express, Connect): the engine with its default store.
 * An adapter entry point: it wires the engine to a concrete store, which the engine never imports.
 */
import {
  SessionEngine,
  type NextFunction,
  type SessionMiddleware,
} from './engine/lifecycle/session-engine';
import { type SessionOptions, resolveSessionOptions } from './engine/session-options';
import { MEMORY_STORE_DEFAULT } from './stores/default-store';

export type { NextFunction, SessionMiddleware };

/**
 * Creates the session middleware with express-session 1.19 behaviour (see the README's
 * "Differences from express-session" for what it does better). Without a `store`, sessions are
 * kept in a new `MemoryStore`.
 */
export function createSessionMiddleware(options?: SessionOptions): SessionMiddleware {
  return new SessionEngine(resolveSessionOptions(options, MEMORY_STORE_DEFAULT)).middleware;
}
