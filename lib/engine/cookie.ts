import { serialize } from 'cookie';
import { deprecate } from './deprecate';

/** `SameSite` values accepted by the cookie options; `'auto'` resolves per request (`'none'` over HTTPS, else `'lax'`). */
export type CookieSameSite = boolean | 'lax' | 'strict' | 'none' | 'auto';

/** `Priority` attribute values (any case is accepted when serializing). */
export type CookiePriority = 'low' | 'medium' | 'high';

/**
 * The session cookie's settings, as given in the `cookie` option.
 * Only the attributes listed here are ever serialized or stored; other keys are copied onto the
 * {@link Cookie} instance but have no effect.
 */
export interface CookieOptions {
  /** Lifetime in milliseconds; `null`/undefined makes a browser-session cookie (no `Expires`). */
  maxAge?: number | null;
  /** Absolute expiry. Prefer `maxAge`. `false` stores no expiry at all. */
  expires?: Date | null | false;
  /** `Path` attribute, default `'/'`. Also scopes which request paths the middleware handles. */
  path?: string;
  /** `Domain` attribute. */
  domain?: string;
  /** `HttpOnly` attribute, default `true`. */
  httpOnly?: boolean;
  /** `Secure` attribute; `'auto'` sets it when the request is secure (see the `proxy` option). */
  secure?: boolean | 'auto';
  /** `SameSite` attribute. */
  sameSite?: CookieSameSite;
  /** `Partitioned` attribute (CHIPS). */
  partitioned?: boolean;
  /** `Priority` attribute. */
  priority?: CookiePriority;
  /** Any other key is copied onto the Cookie instance and ignored. */
  [key: string]: unknown;
}

/** The persisted shape of a cookie (what `toJSON()` returns and stores keep). */
export interface CookieData {
  originalMaxAge: number | null | false | undefined;
  partitioned?: boolean;
  priority?: CookiePriority;
  expires: Date | string | null | false | undefined;
  secure?: boolean | 'auto';
  httpOnly?: boolean;
  domain?: string;
  path?: string;
  sameSite?: CookieSameSite;
  /** (ours) Creation time (epoch ms), kept only when an `absoluteTimeout` is configured. */
  createdAt?: number;
}

type ExpiresValue = Date | string | null | false | undefined;

/**
 * The session cookie's settings and expiry, as `req.session.cookie`.
 * Behaves like express-session's `Cookie`; `originalMaxAge` is kept exact when `maxAge` is set
 * from a number (no 1 ms drift).
 */
export class Cookie {
  /** `Path` attribute. */
  declare path?: string;
  /** `HttpOnly` attribute. */
  declare httpOnly?: boolean;
  /** `Domain` attribute. */
  declare domain?: string;
  /** `Secure` attribute (`'auto'` until resolved for a request). */
  declare secure?: boolean | 'auto';
  /** `SameSite` attribute (`'auto'` until resolved for a request). */
  declare sameSite?: CookieSameSite;
  /** `Partitioned` attribute. */
  declare partitioned?: boolean;
  /** `Priority` attribute. */
  declare priority?: CookiePriority;
  /** (ours) When the session was created (epoch ms); set only with an `absoluteTimeout`. */
  declare createdAt?: number;
  /** The lifetime `touch()`/`resetMaxAge()` restores, in milliseconds (or null for none). */
  declare originalMaxAge: number | null | false | undefined;
  /** @internal backing field of `expires`. */
  declare _expires: ExpiresValue;
  [key: string]: unknown;

  /**
   * @param options cookie settings; `null`/undefined gives the defaults
   *   (`path: '/'`, `httpOnly: true`, no expiry).
   */
  constructor(options?: CookieOptions | CookieData | null) {
    this.path = '/';
    this._expires = null;
    this.originalMaxAge = null;
    this.httpOnly = true;
    if (options) {
      if (typeof options !== 'object') throw new TypeError('argument options must be a object');
      for (const key in options) {
        if (key !== 'data') this[key] = (options as Record<string, unknown>)[key];
      }
    }
    if (this.originalMaxAge === undefined || this.originalMaxAge === null) {
      this.originalMaxAge = this.maxAge;
    }
  }

  /** Absolute expiry date, or `null` for a browser-session cookie. */
  get expires(): ExpiresValue {
    return this._expires;
  }

  set expires(value: ExpiresValue) {
    this._expires = value;
    this.originalMaxAge = this.maxAge;
  }

  /** Milliseconds left before expiry (may be negative), or `null` when the cookie has no expiry. */
  get maxAge(): number | null | false | undefined {
    const expires = this._expires;
    return expires instanceof Date ? expires.valueOf() - Date.now() : (expires as null | false);
  }

  set maxAge(ms: number | Date | null | false | undefined) {
    if (ms && typeof ms !== 'number' && !(ms instanceof Date)) {
      throw new TypeError('maxAge must be a number or Date');
    }
    if (ms instanceof Date) deprecate('maxAge as Date; pass number of milliseconds instead');
    if (typeof ms === 'number') {
      this.expires = new Date(Date.now() + ms);
      // Exact, unlike the "expires - now" recomputation that can drift by 1 ms.
      if (!Number.isNaN(ms)) this.originalMaxAge = ms;
    } else {
      this.expires = ms;
    }
  }

  /** The attributes that are serialized and persisted, in express-session's key order. */
  get data(): CookieData {
    const data: CookieData = {
      originalMaxAge: this.originalMaxAge,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this._expires,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    };
    if (this.createdAt !== undefined) data.createdAt = this.createdAt;
    return data;
  }

  /** Serializes `name=value` with this cookie's attributes (value URL-encoded). */
  serialize(name: string, value: string): string {
    return serialize(name, value, this.data as Parameters<typeof serialize>[2]);
  }

  /** What `JSON.stringify` persists: {@link Cookie.data}. */
  toJSON(): CookieData {
    return this.data;
  }
}
