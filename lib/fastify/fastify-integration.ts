/**
 * The Fastify integration of `SessionModule` (`@nestjs/platform-fastify`). Loaded by the module
 * only when the application's HTTP adapter is Fastify (see `lib/index.ts`): an Express
 * application never loads it, nor Fastify.
 *
 * - The session lives on the raw request; `FastifyRequest` gets accessors that read and write it
 *   there, so `request.session === request.raw.session` always (one session per request,
 *   whoever looks first).
 * - It is loaded by the session middleware, which Nest runs through middie on the raw request
 *   before Fastify's later hooks, guards and handlers: Nest middleware after it see the session
 *   as on Express. Without middie (`new FastifyAdapter({ skipMiddie: true })`), an `onRequest`
 *   hook loads it instead.
 * - It is committed in the reply's `onSend` hook ({@link FastifySessionHost}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_STATE } from '../engine/request-state';
import type {
  HttpAdapterIntegration,
  HttpAdapterSetup,
  MiddlewareMount,
} from '../nest/http-adapter-integration';
import type { SessionMiddleware } from '../nest/session.middleware';
import { type OnSendDone, FastifySessionHost, commitOnSend } from './fastify-host';

/** Marks a Fastify instance the integration was installed on (once per instance). */
const INSTALLED = Symbol('nest-session.fastify.installed');

type MarkedInstance = FastifyInstance & { [INSTALLED]?: true };

/** The request properties mirrored from `request.raw` onto `FastifyRequest`. */
const MIRRORED: readonly (string | symbol)[] = [
  'session',
  'sessionID',
  'sessionStore',
  SESSION_STATE,
];

type RawRecord = Record<string | symbol, unknown>;

/**
 * An accessor of `FastifyRequest` that reads and writes `name` on `request.raw` (shared by
 * every request: declared once on Fastify's request prototype, so requests keep one shape).
 */
function mirrorOf(name: string | symbol): { getter(): unknown; setter(value: unknown): void } {
  return {
    getter(this: FastifyRequest) {
      return (this.raw as unknown as RawRecord)[name];
    },
    setter(this: FastifyRequest, value: unknown) {
      (this.raw as unknown as RawRecord)[name] = value;
    },
  };
}

/**
 * Mirrored too unless the application already has one: connect-flash's `req.flash`, which the
 * engine installs on the raw request (passport's `failureFlash` calls it on the request its
 * guard sees, a FastifyRequest). `@fastify/flash` declares its own.
 */
const MIRRORED_IF_FREE: readonly string[] = ['flash'];

/**
 * Declares `session`, `sessionID`, `sessionStore` (and the engine's state), and `flash`, on
 * `FastifyRequest`.
 */
function decorateSessionRequest(instance: FastifyInstance): void {
  for (const name of MIRRORED_IF_FREE) {
    if (!instance.hasRequestDecorator(name))
      instance.decorateRequest(name, mirrorOf(name) as never);
  }
  for (const name of MIRRORED) {
    if (instance.hasRequestDecorator(name as string)) {
      throw new Error(
        `nest-session: FastifyRequest already has "${String(name)}" (is @fastify/session or ` +
          '@fastify/secure-session registered too? SessionModule replaces them)',
      );
    }
    instance.decorateRequest(name as string, mirrorOf(name) as never);
  }
}

/** The loader for an application without middie: the session middleware in an `onRequest` hook. */
function loaderHook(middleware: SessionMiddleware) {
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const raw = request.raw as IncomingMessage & RawRecord;
    // Already loaded for this request (by another module's engine): one session per request.
    if (raw[SESSION_STATE] !== undefined) return done();
    if (raw.protocol === undefined) raw.protocol = request.protocol;
    middleware.run(
      raw,
      reply.raw as ServerResponse,
      () => done(),
      (err) => done(err instanceof Error ? err : new Error(String(err))),
    );
  };
}

function onSend(
  _request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: OnSendDone,
): void {
  commitOnSend(reply, payload, done);
}

/** Installs the integration on the application's Fastify instance. */
export const fastifyIntegration: HttpAdapterIntegration = {
  install({ adapter, engine, middleware, allRoutes }: HttpAdapterSetup): MiddlewareMount {
    engine.useHost(new FastifySessionHost());
    const instance = adapter.getInstance() as MarkedInstance;
    const hasMiddie = typeof (instance as { use?: unknown }).use === 'function';
    if (!instance[INSTALLED]) {
      instance[INSTALLED] = true;
      decorateSessionRequest(instance);
      instance.addHook('onSend', onSend);
    }
    if (hasMiddie) return allRoutes ? 'adapter' : 'consumer';
    if (!allRoutes) {
      throw new Error(
        'nest-session: forRoutes/exclude need Nest middleware, which this FastifyAdapter runs ' +
          'without (skipMiddie)',
      );
    }
    instance.addHook('onRequest', loaderHook(middleware));
    return 'integration';
  },
};
