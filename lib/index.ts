/**
 * nest-session: server-side sessions for NestJS.
 *
 * The public API, listed name by name. The express-session drop-in lives at `nest-session/express`.
 */

import { registerHttpAdapterIntegration } from './nest/http-adapter-integration';
// The decorators and SessionGuard in GraphQL resolvers (the 'graphql' execution context). Cheap:
// it loads neither graphql nor @nestjs/graphql (graphql only when it refuses an operation).
import './nest/graphql-context';

// The Fastify integration, required only when an application runs on FastifyAdapter: an
// Express application never loads it (nor fastify, nor @nestjs/platform-fastify).
registerHttpAdapterIntegration(
  'fastify',
  () =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./fastify/fastify-integration') as typeof import('./fastify/fastify-integration'))
      .fastifyIntegration,
);

// Nest module
export { SessionModule } from './nest/session.module';
export type {
  SessionModuleAsyncOptions,
  SessionModuleForRootOptions,
  SessionOptionsFactory,
} from './nest/session.module-definition';
export type { SessionModuleOptions } from './nest/session-module-options.interface';
export { SessionOptionsError } from './nest/session-options.error';
export { Session, SessionId, type SessionValue } from './nest/session.decorators';
export { SessionGuard } from './nest/session.guard';
export {
  SessionService,
  type UserSession,
  type DestroyForUserOptions,
} from './nest/session.service';
export { RequireSession, OptionalSession } from './nest/require-session.decorator';
/** GraphQL subscriptions over graphql-ws: the upgrade request's session, read in `onConnect`. */
export {
  subscriptionSessionLoader,
  type GraphqlWsConnectContext,
  type SessionEngineSource,
  type SubscriptionSessionOptions,
} from './nest/graphql-subscriptions';
/** Flash messages, typed: `@Flash()` injects a {@link FlashBag}, `flashOf(req)` returns one. */
export { Flash, flashOf, type FlashBag } from './nest/flash.decorator';
export {
  SessionRequiredException,
  SessionStoreUnavailableException,
} from './nest/session.exceptions';
/**
 * CSRF protection bound to the session (synchronizer tokens): `CsrfGuard` checks, `@CsrfToken()`
 * and `csrfTokenOf(req)` hand out tokens, `@SkipCsrf()` exempts a route.
 */
export { CsrfGuard } from './nest/csrf.guard';
export { CsrfToken, SkipCsrf, csrfTokenOf } from './nest/csrf.decorators';
export { CsrfTokenException, type CsrfFailure } from './nest/csrf.exception';
export type { CsrfOptions } from './nest/csrf-options';

// Stores
export { SessionStore } from './stores/session-store';
export { Store, type StoreConstructor } from './engine/store/store';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory-store';
export {
  RedisStore,
  RedisStoreError,
  type RedisStoreOptions,
  type RedisStoreSerializer,
  type RedisStoredSession,
} from './stores/redis/redis-store';
export type { RedisClientLike, RedisCommands } from './stores/redis/redis-client';
export { CallbackStoreAdapter } from './stores/callback-store-adapter';
export {
  StoreTimeoutError,
  type SelfTimedStore,
  type StoreMethod,
} from './engine/store/store-call';
export { SessionDataError } from './engine/session-data-error';
export type { StoreLike } from './engine/store/store-like';
export { isStoredSession } from './engine/session-origin';

// Engine types and classes
export { createSessionMiddleware, type SessionMiddleware, type NextFunction } from './middleware';
export type { SessionOptions } from './engine/session-options';
export type { EncryptionKey, EncryptionOptions } from './engine/encryption';
export {
  SESSION_EVENT_NAMES,
  STORE_EXPIRED_EVENT,
  type StoreExpiredEvent,
  type SessionEventMap,
  type SessionEventName,
  type SessionEventHooks,
} from './engine/session-events';
export {
  Session as SessionObject,
  SessionPromise,
  type RegenerateOptions,
  type RequestSession,
  type SessionRequest,
} from './engine/session';
export {
  Cookie,
  type CookieOptions,
  type CookieData,
  type CookieSameSite,
  type CookiePriority,
} from './engine/cookie';
export { CSRF_SECRET_KEY, type SessionData, type SessionRecord } from './engine/session-data';
/** Flash messages: `req.flash`'s type, and the augmentable map of types to message types. */
export type { FlashMap, FlashMessages, FlashType, RequestFlash } from './engine/flash';
/**
 * The session id in a header (`header` option) and CORS, for apps that mount a CORS middleware
 * before the express drop-in: `server.prependListener('request', corsExposureListener(name))`.
 */
export {
  corsExposureListener,
  exposeSessionHeaderToCors,
} from './engine/transport/node/cors-exposure';
export type { SecretKey } from './engine/signature';
export { generateSessionId, isDefaultSessionId } from './engine/session-id';
export type { ProxySetting } from './engine/secure-request';
export type { NodeCallback } from './engine/node-callback';
