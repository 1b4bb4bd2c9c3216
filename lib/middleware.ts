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
import { exposeSessionHeaderToCors } from './engine/transport/node/cors-exposure';
import { MEMORY_STORE_DEFAULT } from './stores/default-store';

export type { NextFunction, SessionMiddleware };

/**
 * Creates the session middleware with express-session 1.19 behaviour (see the README's
 * "Differences from express-session" for what it does better). Without a `store`, sessions are
 * kept in a new `MemoryStore`.
 */
export function createSessionMiddleware(options?: SessionOptions): SessionMiddleware {
  const engine = new SessionEngine(resolveSessionOptions(options, MEMORY_STORE_DEFAULT));
  const middleware = engine.middleware;
  const header = engine.options.header;
  if (!header) return middleware;
  // The header is usable cross-origin on the responses of CORS middleware mounted after this one.
  return (req, res, next) => {
    exposeSessionHeaderToCors(req, res, header);
    middleware(req, res, next);
  };
}
