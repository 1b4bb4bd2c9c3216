/** What the HTML pages keep in the session, on top of sample/session/session-data.ts. */
export interface DeviceInfo {
  /** The browser's User-Agent at sign-in. */
  userAgent: string;
  /** When this session signed in (ISO string). */
  signedInAt: string;
}

declare module '../../lib' {
  interface SessionData {
    /** Set on sign-in through the HTML form: shown on the "your devices" page. */
    device: DeviceInfo;
  }
}

/**
 * Name of the hidden form field that carries the CSRF token: the library's default, set
 * explicitly in app.module.ts (`csrf: { field }`) so that the pages and the guard agree.
 */
export const CSRF_FIELD = '_csrf';
