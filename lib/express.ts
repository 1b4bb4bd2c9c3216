/**
 * `nest-session/express`: a drop-in replacement for `express-session` 1.19.
 *
 * ```js
 * const session = require('nest-session/express'); // was: require('express-session')
 * app.use(session({ secret: 'keyboard cat', resave: false, saveUninitialized: false }));
 * ```
 *
 * Same factory shape (`session.Store`, `session.MemoryStore`, `session.Session`,
 * `session.Cookie`), defaults, cookie format and store records as express-session, so users stay
 * signed in across the switch and every express-session store keeps working.
 */
import { Cookie as CookieClass } from './engine/cookie';
import { Session as SessionClass } from './engine/session';
import { createSessionMiddleware, type SessionMiddleware } from './middleware';
import type { SessionOptions as Options } from './engine/session-options';
import { Store as StoreBase } from './engine/store/store';
import { MemoryStore as MemoryStoreClass } from './stores/memory-store';

/**
 * Creates the session middleware. Options and defaults are express-session's (`resave` and
 * `saveUninitialized` default to `true` with a deprecation notice when left out).
 */
function session(options?: session.SessionOptions): SessionMiddleware {
  return createSessionMiddleware(options);
}

// eslint-disable-next-line @typescript-eslint/no-namespace
namespace session {
  /** The middleware options (express-session's, plus `storeTimeout`, `strictWrites`, …). */
  export type SessionOptions = Options;
  /** The store base: extend it with `class` or `Store.call(this)` + `util.inherits`. */
  export const Store = StoreBase;
  /** The default in-process store. */
  export const MemoryStore = MemoryStoreClass;
  /** The session class (`req.session`). */
  export const Session = SessionClass;
  /** The cookie class (`req.session.cookie`). */
  export const Cookie = CookieClass;
}

export = session;

// Names for ESM importers, as express-session's `exports.Store = ...` gives them: Node finds a CJS
// module's named exports by scanning its text (cjs-module-lexer), which cannot see the namespace.
exports.Store = exports.MemoryStore = exports.Session = exports.Cookie = undefined;
