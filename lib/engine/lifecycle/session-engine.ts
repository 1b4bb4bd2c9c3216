import type { IncomingMessage, ServerResponse } from 'node:http';
import { BoundedMap } from '../bounded-map';
import { installFlash } from '../flash';
import type { CookieOptions } from '../cookie';
import { requestState } from '../request-state';
import { EncryptedStore } from '../store/encrypted-store';
import type { SessionRequest } from '../session';
import { type SessionEventMap, type SessionEventName, forwardStoreExpiry } from '../session-events';
import type { ResolvedSessionOptions } from '../session-options';
import { type SecretKey, prepareKey } from '../signature';
import { SignedCookieTransport } from '../transport/cookie-transport';
import { headerOrCookieTransport } from '../transport/header-transport';
import { NodeResponseHost } from '../transport/node/node-host';
import type { SessionHost, SessionIdTransport } from '../transport/transport';
import { loadSession } from './load-session';
import { type EngineServices, type NextFunction, RequestContext } from './request-context';

export type { NextFunction };

/** The session middleware: `(req, res, next)`, usable with Express, Connect or plain `node:http`. */
export type SessionMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunction,
) => void;

/** The two halves of the transport seam an engine runs on (see `transport.ts`). */
export interface SessionTransports<Res> {
  /** Seam (a): where the session id comes from and goes back to. */
  readonly id: SessionIdTransport<Res>;
  /** Seam (b): where the session is exposed and when it is committed. */
  readonly host: SessionHost<Res>;
}

/**
 * Today's transports: the signed cookie (and, with the `header` option, the signed id in that
 * header for the requests that carry it), and the session on the Node request committed by
 * wrapping the `ServerResponse`.
 */
export function nodeCookieTransports(
  options: ResolvedSessionOptions,
): SessionTransports<ServerResponse> {
  const cache = options.secrets !== undefined;
  const cookie = new SignedCookieTransport({
    name: options.name,
    isValidId: options.isValidId,
    proxy: options.proxy,
    cache,
  });
  const id = options.header
    ? headerOrCookieTransport(options.header, cookie, { isValidId: options.isValidId, cache })
    : cookie;
  return { id, host: new NodeResponseHost() };
}

/**
 * The engine behind the middleware: options resolved once, the store's connection state, and
 * the per-request handling (load, expose, and leave the commit to the host). It knows no
 * framework, cookie or header: those are its two transports.
 * @internal
 */
export class SessionEngine<Res = ServerResponse> implements EngineServices<Res> {
  /** The middleware function (bound): `(req, res, next)`. */
  readonly middleware: (req: IncomingMessage, res: Res, next: NextFunction) => void;
  /** Whether the store said it is connected (`'connect'`/`'disconnect'` events). */
  storeReady = true;
  /** Whether the store has `touch` (checked once, as express-session does). */
  readonly storeImplementsTouch: boolean;
  /**
   * With `touchAfter`: the expiry (epoch ms) each recently touched session was given by a touch
   * this process sent (the latest 10,000 sessions), so that parallel requests of one browser do
   * not all touch it (one does).
   */
  readonly recentTouches = new BoundedMap<string, number>(10_000);
  /** Seam (a): where the session id comes from and goes back to. */
  readonly idTransport: SessionIdTransport<Res>;
  /** Seam (b): where the session is exposed and when it is committed (see {@link useHost}). */
  get host(): SessionHost<Res> {
    return this.currentHost;
  }
  private currentHost: SessionHost<Res>;
  /** The configured secrets, prepared once for HMAC (see `prepareKey`). */
  private readonly keys: readonly SecretKey[] | undefined;

  /**
   * @param options resolved options (`resolveSessionOptions`)
   * @param transports where the id travels and where the session lives; default: the signed
   *   cookie on a Node request/response
   */
  constructor(
    readonly options: ResolvedSessionOptions,
    transports: SessionTransports<Res> = nodeCookieTransports(
      options,
    ) as unknown as SessionTransports<Res>,
  ) {
    const store = options.store;
    if (typeof store.on !== 'function') throw new TypeError('store.on is not a function');
    store.on('disconnect', () => {
      this.storeReady = false;
    });
    store.on('connect', () => {
      this.storeReady = true;
    });
    forwardStoreExpiry(store, store instanceof EncryptedStore, (e) => this.emit('expired', e));
    this.storeImplementsTouch = typeof store.touch === 'function';
    this.keys = options.secrets?.map(prepareKey);
    this.idTransport = transports.id;
    this.currentHost = transports.host;
    // Store#regenerate calls store.generate(req). Dispatch to the middleware that is handling
    // that request, so several middleware sharing one store do not overwrite each other.
    store.generate = ((req: SessionRequest) => {
      const context = requestState<RequestContext<unknown>>(req);
      if (context) context.generate();
      else
        new RequestContext(
          this,
          req,
          undefined,
          undefined,
          this.cookieOptionsFor(req),
          [],
        ).generate();
    }) as never;
    this.middleware = (req, res, next) => this.handle(req as SessionRequest, res, next);
  }

  /**
   * Replaces seam (b) before the first request: an HTTP framework known only once the
   * application is set up (the Nest module learns its adapter after the engine is built) brings
   * its own host, keeping the id transport.
   */
  useHost(host: SessionHost<Res>): void {
    this.currentHost = host;
  }

  /** Calls the `events` hook for `name`; a hook that throws never breaks the request. */
  emit<K extends SessionEventName>(name: K, event: SessionEventMap[K]): void {
    const hook = this.options.events?.[name] as ((e: SessionEventMap[K]) => void) | undefined;
    if (!hook) return;
    try {
      hook(event);
    } catch (err) {
      // `onError` takes a request: an event reported by the store (no request) is logged.
      if (this.options.onError && event.req) this.options.onError(err, event.req);
      else console.error(`nest-session: the ${name} event hook threw:`, err);
    }
  }

  /** The cookie options for a request (the function form is called once per request). */
  cookieOptionsFor(req: SessionRequest): CookieOptions {
    const cookie = this.options.cookie;
    return typeof cookie === 'function' ? cookie(req) : cookie;
  }

  /**
   * The keys a request's id is verified with: the configured secrets (prepared once), else
   * cookie-parser's `req.secret`; `undefined` when there is neither.
   */
  secretsFor(req: SessionRequest): readonly SecretKey[] | undefined {
    return this.keys ?? (req.secret ? [req.secret] : undefined);
  }

  /**
   * Handles one request: reads the id (seam a), exposes the state (seam b), then creates,
   * lazily defines or loads the session and calls `next`; the host commits at the end.
   */
  handle(req: SessionRequest, res: Res, next: NextFunction): void {
    installFlash(req);
    if (req.session) return next();
    if (!this.storeReady) return next();
    const o = this.options;
    const cookieOptions = this.cookieOptionsFor(req);
    // A transport that picks one per request (the header or the cookie) says which serves this one.
    const transport = this.idTransport.forRequest?.(req) ?? this.idTransport;
    if (!transport.inScope(req, cookieOptions)) return next();

    const secrets = this.secretsFor(req);
    if (!secrets) return next(new Error('secret option required for sessions'));

    const received = transport.read(req, secrets);
    const cookieId = received?.id;
    const context = new RequestContext(this, req, res, next, cookieOptions, secrets, cookieId);
    context.idTransport = transport;
    // Signed with an older secret: send the id again, signed with the current one.
    if (received?.oldSecret && o.resignCookies) context.resign = true;
    this.host.expose(req, o.store, context);

    if (!cookieId) {
      if (!o.saveUninitialized) {
        // Nothing to do unless the handler uses the session: create it on first access.
        context.defineLazySession();
        return next();
      }
      req.sessionID = undefined;
      context.hook();
      context.generateSession();
      return next();
    }
    req.sessionID = cookieId;
    context.hook();
    loadSession(context, cookieId);
  }
}
