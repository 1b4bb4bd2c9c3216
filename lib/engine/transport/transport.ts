/**
 * The transport seam: the two places where the engine meets the outside world.
 *
 * - {@link SessionIdTransport}: where the session id comes from and goes back to (first
 *   implementation: the signed cookie, {@link SignedCookieTransport}).
 * - {@link SessionHost}: where the session is exposed and when it is committed (first
 *   implementation: `req.session` on a Node `IncomingMessage`, committed by wrapping the
 *   `ServerResponse`'s `writeHead`/`end`, {@link NodeResponseHost}).
 *
 * The engine (`SessionEngine`) takes one of each. It loads the session, exposes it, and decides
 * (express-session's rules) whether to save, touch or destroy it and whether to send the id
 * back; the transports only say how and when. A Fastify adapter (onRequest/onSend hooks), a
 * WebSocket handshake (load at upgrade, commit after a message handler, no id sent back) or the
 * `x-session-id` header transport (`header-transport.ts`, composed with the cookie by
 * {@link PerRequestTransport}) are new implementations of these two interfaces, not edits of
 * the engine.
 */
import type { CookieOptions } from '../cookie';
import type { RequestSession, SessionRequest } from '../session';
import type { SecretKey } from '../signature';
import type { StoreLike } from '../store/store-like';

/** A session id as a request carried it, verified. */
export interface ReceivedSessionId {
  /** The session id. */
  id: string;
  /**
   * It was signed with an older secret (not the first): with `resignCookies` the engine sends
   * it back signed with the current one.
   */
  oldSecret: boolean;
}

/**
 * Seam (a): where the session id comes from and goes back to. The engine calls it and never
 * touches a cookie or a header itself; the decisions (send the id or not, clear it or not) stay
 * with the engine.
 *
 * @typeParam Res what the id is written to: a Node `ServerResponse` for the cookie transport, a
 *   `FastifyReply` for a Fastify one, nothing at all for a WebSocket handshake
 */
export interface SessionIdTransport<Res> {
  /**
   * Whether sessions apply to this request at all (cookie: its path is under the cookie's
   * `path`). Out of scope, the request goes on with no session.
   */
  inScope(req: SessionRequest, cookie: CookieOptions): boolean;
  /**
   * The id the request carries, verified against `secrets` (any of them), or `undefined` when
   * it carries none or an invalid one (the request then gets a new session).
   */
  read(req: SessionRequest, secrets: readonly SecretKey[]): ReceivedSessionId | undefined;
  /**
   * Whether the id may be sent back on this request (cookie: a `Secure` cookie only over HTTPS).
   * A new session whose id cannot be sent is not stored.
   */
  canSend(req: SessionRequest, session: RequestSession): boolean;
  /**
   * Sends the id back, signed with `secret`, with the attributes and expiry of
   * `session.cookie` (cookie: a `Set-Cookie` line added to the response).
   */
  send(res: Res, id: string, session: RequestSession, secret: SecretKey): void;
  /**
   * Tells the client to forget the id of the session destroyed during this request
   * (`clearCookieOnDestroy`); `attributes` are that session cookie's domain, path, secure,
   * sameSite and partitioned.
   */
  clear(res: Res, attributes: CookieOptions): void;
  /**
   * Optional: takes back what {@link send} put on this response (strict mode, when the store
   * refused or failed the write after the id was decided). The cookie transport needs none:
   * the strict strategy restores the response's `Set-Cookie` lines itself.
   */
  withdraw?(res: Res): void;
  /**
   * Optional, for a transport that picks one of several per request (the header transport when
   * the request carries the header, else the cookie: {@link PerRequestTransport}): the
   * transport that serves `req`. Asked once per request, before {@link inScope}; the engine uses
   * what it returns for the whole request.
   */
  forRequest?(req: SessionRequest): SessionIdTransport<Res>;
}

/**
 * Seam (a), composed: one of two transports per request, chosen by `useFirst(req)` (for the
 * session id in a header: the header transport when the request carries the header, else the
 * cookie). Any `Res` (a Node response, a `FastifyReply`): it only delegates. Called without
 * {@link forRequest} (which the engine always asks first), it behaves as the second transport.
 */
export class PerRequestTransport<Res> implements SessionIdTransport<Res> {
  constructor(
    private readonly useFirst: (req: SessionRequest) => boolean,
    readonly first: SessionIdTransport<Res>,
    readonly second: SessionIdTransport<Res>,
  ) {}

  forRequest(req: SessionRequest): SessionIdTransport<Res> {
    const chosen = this.useFirst(req) ? this.first : this.second;
    return chosen.forRequest?.(req) ?? chosen;
  }

  inScope(req: SessionRequest, cookie: CookieOptions): boolean {
    return this.second.inScope(req, cookie);
  }

  read(req: SessionRequest, secrets: readonly SecretKey[]): ReceivedSessionId | undefined {
    return this.second.read(req, secrets);
  }

  canSend(req: SessionRequest, session: RequestSession): boolean {
    return this.second.canSend(req, session);
  }

  send(res: Res, id: string, session: RequestSession, secret: SecretKey): void {
    this.second.send(res, id, session, secret);
  }

  clear(res: Res, attributes: CookieOptions): void {
    this.second.clear(res, attributes);
  }
}

/** What the end of a request does with the store (see {@link SessionCommit.storeAction}). */
export type StoreAction = 'save' | 'touch' | undefined;

/**
 * The engine's side of seam (b): the steps a {@link SessionHost} runs, in this order, to commit a
 * request's session. The decisions are express-session's; a host only picks the moment and what
 * the response looks like while the store works (see the strict and compatible strategies).
 *
 * 1. {@link shouldDestroy}: the session was taken off the request under `unset: 'destroy'`;
 *    then {@link destroy} and stop.
 * 2. {@link touchedSession}: the session to commit (its cookie's expiry restarted once), or
 *    `undefined`: nothing to commit.
 * 3. {@link sendId} (once, before the response's headers): send the id back, or clear it.
 * 4. {@link storeAction}: then {@link save} or {@link touch}, or nothing.
 */
export interface SessionCommit {
  /** `strictWrites`: the store is written before the response goes out. */
  readonly strict: boolean;
  /**
   * What the host keeps for this commit (the Node host: the response's hooks, found there by
   * hooks shared by every response of an application). The engine never reads it.
   */
  hostData: unknown;
  /** Step 1: whether the session was removed from the request and is to be destroyed. */
  shouldDestroy(): boolean;
  /** Step 2: the request's session, its cookie's expiry restarted (once), or `undefined`. */
  touchedSession(): RequestSession | undefined;
  /**
   * Step 3: decides whether the id goes back and sends it (or clears a destroyed session's id)
   * through the {@link SessionIdTransport}; runs once. `throwErrors`: throw a failure rather than
   * report it through {@link reportLate}.
   */
  sendId(throwErrors: boolean): void;
  /** Step 4: save, touch, or leave the store alone (a 5xx answer or an orphan session: alone). */
  storeAction(session: RequestSession): StoreAction;
  /** Destroys the session removed from the request (step 1); `callback(err)` once answered. */
  destroy(callback: (err?: unknown) => void): void;
  /** Saves the session (step 4); `callback(err)` once the store answered. */
  save(session: RequestSession, callback: (err?: unknown) => void): void;
  /** Refreshes the store's expiry of the unchanged session (step 4). */
  touch(session: RequestSession, callback: (err?: unknown) => void): void;
  /**
   * After step 4: whether the store refused the save or touch because the session no longer
   * exists (it was destroyed by another request meanwhile). The id must then not go back: a host
   * that can still withdraw what step 3 sent (strict mode) withdraws it.
   */
  storeRefused(): boolean;
  /**
   * Takes back the id step 3 put on the response, where the transport says how
   * (`SessionIdTransport.withdraw`: the header transport's header). The host withdraws the
   * `Set-Cookie` lines itself.
   */
  withdrawId(): void;
  /** Runs `decide` with the session's fingerprint computed at most once (data cannot change). */
  deciding<T>(decide: () => T): T;
  /** Reports an error that can no longer change the response (`onError`, else `next(err)`). */
  reportLate(err: unknown): void;
  /** Reports an error the strict strategy answered for (`onError`, else the console). */
  reportStrict(err: unknown): void;
}

/**
 * Seam (b): where the session is exposed and when it is committed.
 *
 * The session itself always lives on a request object with express-session's properties
 * (`req.session`, `req.sessionID`, `req.sessionStore`: {@link SessionRequest}), because every
 * session method works through them. For Fastify that object is `request.raw`, which a plugin
 * mirrors on `FastifyRequest` with `decorateRequest` getters; for a WebSocket it is the upgrade
 * request.
 *
 * @typeParam Res what the commit is tied to: a Node `ServerResponse` today, a `FastifyReply`, a
 *   socket
 */
export interface SessionHost<Res> {
  /**
   * Puts the store and the engine's per-request state (`state`, kept under a symbol) where the
   * session API and the guards find them; called once per request, before the session exists.
   */
  expose(req: SessionRequest, store: StoreLike, state: object): void;
  /**
   * Arranges the commit of `commit`'s session: run its steps at the right moment (today: step 3
   * just before the headers are written, the rest when `end` is called). Called at most once per
   * request, and only while {@link isOpen}.
   */
  attach(res: Res, commit: SessionCommit): void;
  /** Whether the commit can still be arranged (the response's headers are not sent). */
  isOpen(res: Res): boolean;
  /** The response's status code (`saveOnServerError` keeps a 5xx answer's changes out). */
  statusCode(res: Res): number;
}
