import type { Type } from '@nestjs/common';
import type { RouteInfo } from '@nestjs/common/interfaces/middleware/middleware-configuration.interface';
import type { CookieOptions } from '../engine/cookie';
import type { SessionRequest } from '../engine/session';
import { type SessionOptions, sessionHeaderProblem } from '../engine/session-options';
import type { SecretKey } from '../engine/signature';
import type { SessionModuleOptions } from './session-module-options.interface';
import { SessionOptionsError } from './session-options.error';
import { SessionStoreUnavailableException } from './session.exceptions';
import type { ServerResponse } from 'node:http';
import { isDefaultSessionId } from '../engine/session-id';
import { SESSION_EVENT_NAMES } from '../engine/session-events';
import { EncryptionOptionError, checkEncryptionOptions } from '../engine/encryption';
import { type ResolvedCsrfOptions, resolveCsrfOptions } from './csrf-options';

/** What the module runs on after defaults and validation. @internal */
export interface ResolvedModuleOptions {
  engine: SessionOptions;
  forRoutes: (string | Type<unknown> | RouteInfo)[];
  exclude: (string | RouteInfo)[];
  onStoreError: 'fail' | 'continue';
  /** True when every route is covered (no `forRoutes`, no `exclude`): the engine can be installed directly. */
  allRoutes: boolean;
  /** What `CsrfGuard` checks (the `csrf` option with its defaults). */
  csrf: ResolvedCsrfOptions;
}

/** Minimum secret length (characters or bytes): 256 bits of a random hex/base64 string. */
export const MIN_SECRET_LENGTH = 32;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SAME_SITE = new Set(['lax', 'strict', 'none', 'auto']);
const PRIORITY = new Set(['low', 'medium', 'high']);
const DEFAULT_STORE_TIMEOUT = 5000;
const DEFAULT_TOUCH_AFTER = 60_000;
const DEFAULT_MAX_SIZE = 1_048_576;

function fail(option: string, message: string): never {
  throw new SessionOptionsError(option, message);
}

function checkSecret(secret: unknown): void {
  const list = Array.isArray(secret) ? secret : [secret];
  if (secret === undefined || secret === null || secret === '') {
    fail(
      'secret',
      'a secret is required (at least 32 random characters; keep it out of your code)',
    );
  }
  if (list.length === 0) fail('secret', 'the array must contain at least one secret');
  list.forEach((value: unknown, i) => {
    const name = Array.isArray(secret) ? `secret[${i}]` : 'secret';
    if (typeof value === 'string') {
      if (value.length < MIN_SECRET_LENGTH) {
        fail(name, `must be at least ${MIN_SECRET_LENGTH} characters long (got ${value.length})`);
      }
    } else if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
      if (value.byteLength < MIN_SECRET_LENGTH) {
        fail(name, `must be at least ${MIN_SECRET_LENGTH} bytes long (got ${value.byteLength})`);
      }
    } else if (!(
      typeof value === 'object' &&
      value !== null &&
      (value as { type?: unknown }).type === 'secret'
    )) {
      fail(name, 'must be a string, a Buffer, a typed array or a secret KeyObject');
    }
  });
}

function checkCookie(cookie: CookieOptions, name: string, where = 'cookie'): void {
  const { maxAge, sameSite, secure, path, domain, priority } = cookie;
  if (maxAge !== undefined && maxAge !== null && (typeof maxAge !== 'number' || !(maxAge >= 0))) {
    fail(`${where}.maxAge`, 'must be a number of milliseconds >= 0, or null');
  }
  if (sameSite !== undefined && typeof sameSite !== 'boolean') {
    if (typeof sameSite !== 'string' || !SAME_SITE.has(sameSite.toLowerCase())) {
      fail(`${where}.sameSite`, "must be 'lax', 'strict', 'none', 'auto', true or false");
    }
  }
  if (secure !== undefined && typeof secure !== 'boolean' && secure !== 'auto') {
    fail(`${where}.secure`, "must be true, false or 'auto'");
  }
  if (typeof sameSite === 'string' && sameSite.toLowerCase() === 'none' && !secure) {
    fail(
      `${where}.sameSite`,
      "'none' requires secure: true or 'auto' (browsers drop such cookies)",
    );
  }
  if (
    priority !== undefined &&
    (typeof priority !== 'string' || !PRIORITY.has(priority.toLowerCase()))
  ) {
    fail(`${where}.priority`, "must be 'low', 'medium' or 'high'");
  }
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
    fail(`${where}.path`, "must be a string starting with '/'");
  }
  if (domain !== undefined && typeof domain !== 'string')
    fail(`${where}.domain`, 'must be a string');
  if (name.startsWith('__Host-')) {
    if (secure !== true) fail(`${where}.secure`, 'a __Host- cookie must be secure: true');
    if (domain !== undefined) fail(`${where}.domain`, 'a __Host- cookie must not have a domain');
    if ((path ?? '/') !== '/') fail(`${where}.path`, "a __Host- cookie must have path '/'");
  } else if (name.startsWith('__Secure-') && secure !== true) {
    fail(`${where}.secure`, 'a __Secure- cookie must be secure: true');
  }
}

/** `encryption`: keys of exactly 32 bytes, and not with `concurrency: 'merge'`. */
function checkEncryption(options: SessionModuleOptions): void {
  if (options.encryption === undefined) return;
  try {
    checkEncryptionOptions(options.encryption);
  } catch (err) {
    if (err instanceof EncryptionOptionError) fail(err.option, err.problem);
    throw err;
  }
  if (options.concurrency === 'merge') {
    fail(
      'encryption',
      "cannot be combined with concurrency: 'merge' (the store cannot splice the changed keys " +
        "into a ciphertext); use concurrency: 'overwrite' (the default) or no encryption",
    );
  }
}

/** Store errors met by session methods become a 503 with `Retry-After` (as load failures do). */
function storeUnavailable(err: unknown, req: SessionRequest): unknown {
  const res = (req as SessionRequest & { res?: ServerResponse }).res;
  if (res && !res.headersSent) res.setHeader('Retry-After', '1');
  return new SessionStoreUnavailableException(err);
}

/** Our cookie defaults, under the user's settings. */
function withCookieDefaults(cookie: CookieOptions): CookieOptions {
  return { path: '/', httpOnly: true, sameSite: 'lax', ...cookie };
}

/**
 * Validates the module options once, at startup (an invalid option throws a
 * {@link SessionOptionsError} naming it), and applies the module's defaults.
 * @internal
 */
export function resolveModuleOptions(options: SessionModuleOptions): ResolvedModuleOptions {
  if (typeof options !== 'object' || options === null) {
    fail('options', 'SessionModule.forRoot() needs an options object with at least a secret');
  }
  checkSecret(options.secret);

  const name = options.name ?? 'sid';
  if (typeof name !== 'string' || !TOKEN.test(name))
    fail('name', 'must be a valid cookie name token');

  const cookie = options.cookie ?? {};
  let resolvedCookie: SessionOptions['cookie'];
  if (typeof cookie === 'function') {
    resolvedCookie = (req: SessionRequest) => {
      const value = withCookieDefaults(cookie(req));
      checkCookie(value, name, 'cookie(req)');
      return value;
    };
  } else if (typeof cookie === 'object' && cookie !== null) {
    resolvedCookie = withCookieDefaults(cookie);
    checkCookie(resolvedCookie, name);
  } else {
    fail('cookie', 'must be an object or a function of the request');
  }

  if (options.header !== undefined) {
    const problem = sessionHeaderProblem(options.header);
    if (problem) fail('header', problem);
  }
  if (options.genid !== undefined && typeof options.genid !== 'function') {
    fail('genid', 'must be a function returning a new session id');
  }
  if (options.isValidId !== undefined && typeof options.isValidId !== 'function') {
    fail('isValidId', 'must be a function (id) => boolean');
  }
  // Ids from the default genid have a known shape; a custom genid brings its own check (or none).
  const isValidId = options.isValidId ?? (options.genid ? undefined : isDefaultSessionId);
  const proxy = options.proxy;
  if (
    proxy !== undefined &&
    typeof proxy !== 'boolean' &&
    !(typeof proxy === 'number' && Number.isInteger(proxy) && proxy >= 0)
  ) {
    fail('proxy', 'must be true, false, or a number of trusted proxy hops');
  }
  for (const flag of [
    'resave',
    'rolling',
    'saveUninitialized',
    'strictWrites',
    'saveOnServerError',
  ] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean')
      fail(flag, 'must be a boolean');
  }
  if (options.unset !== undefined && options.unset !== 'keep' && options.unset !== 'destroy') {
    fail('unset', "must be 'keep' or 'destroy'");
  }
  const store = options.store;
  if (store !== undefined) {
    for (const method of ['get', 'set', 'destroy', 'on'] as const) {
      if (typeof (store as unknown as Record<string, unknown>)?.[method] !== 'function') {
        fail('store', `must be a session store (it has no ${method}() method)`);
      }
    }
  }
  for (const ms of [
    'storeTimeout',
    'touchAfter',
    'absoluteTimeout',
    'maxSize',
    'readRetries',
  ] as const) {
    const value = options[ms];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      fail(
        ms,
        ms === 'maxSize' || ms === 'readRetries'
          ? 'must be a number >= 0'
          : 'must be a number of milliseconds >= 0',
      );
    }
  }
  if (
    options.userKey !== undefined &&
    (typeof options.userKey !== 'string' || options.userKey === '') &&
    typeof options.userKey !== 'function'
  ) {
    fail('userKey', 'must be a session key (e.g. "userId") or a function of the session');
  }
  if (
    options.concurrency !== undefined &&
    options.concurrency !== 'merge' &&
    options.concurrency !== 'overwrite'
  ) {
    fail('concurrency', "must be 'overwrite' or 'merge'");
  }
  checkEncryption(options);
  const events = options.events;
  if (events !== undefined) {
    if (typeof events !== 'object' || events === null) fail('events', 'must be an object of hooks');
    for (const [name, hook] of Object.entries(events)) {
      if (!(name in SESSION_EVENT_NAMES)) fail(`events.${name}`, 'is not a session event');
      if (typeof hook !== 'function') fail(`events.${name}`, 'must be a function');
    }
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    fail('onError', 'must be a function');
  }
  const onStoreError = options.onStoreError ?? 'fail';
  if (onStoreError !== 'fail' && onStoreError !== 'continue') {
    fail('onStoreError', "must be 'fail' or 'continue'");
  }
  const forRoutes = options.forRoutes ?? ['{*splat}'];
  if (!Array.isArray(forRoutes) || forRoutes.length === 0) {
    fail('forRoutes', 'must be a non-empty array of routes');
  }
  const exclude = options.exclude ?? [];
  if (!Array.isArray(exclude)) fail('exclude', 'must be an array of routes');
  const csrf = resolveCsrfOptions(options.csrf, options.header);

  return {
    engine: {
      secret: options.secret as SecretKey | SecretKey[],
      name,
      cookie: resolvedCookie,
      header: options.header,
      genid: options.genid,
      isValidId,
      proxy,
      resave: options.resave ?? false,
      rolling: options.rolling ?? false,
      saveUninitialized: options.saveUninitialized ?? false,
      store,
      unset: options.unset ?? 'keep',
      storeTimeout: options.storeTimeout ?? DEFAULT_STORE_TIMEOUT,
      touchAfter: options.touchAfter ?? DEFAULT_TOUCH_AFTER,
      strictWrites: options.strictWrites ?? true,
      discardInvalidRecords: true,
      clearCookieOnDestroy: options.clearCookieOnDestroy ?? true,
      resignCookies: options.resignCookies ?? true,
      saveOnServerError: options.saveOnServerError ?? false,
      absoluteTimeout: options.absoluteTimeout,
      maxSize: options.maxSize ?? DEFAULT_MAX_SIZE,
      readRetries: options.readRetries ?? 1,
      reapplyCookieOptions: options.reapplyCookieOptions ?? true,
      events,
      userKey: options.userKey,
      concurrency: options.concurrency ?? 'overwrite',
      encryption: options.encryption,
      mapStoreError: options.mapStoreError ?? storeUnavailable,
      onError: options.onError,
    },
    forRoutes,
    exclude,
    onStoreError,
    allRoutes: options.forRoutes === undefined && exclude.length === 0,
    csrf,
  };
}
