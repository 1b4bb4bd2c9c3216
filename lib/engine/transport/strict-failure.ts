import { SessionDataError } from '../session-data-error';

/**
 * What strict mode (`strictWrites`) answers when the store write fails, whatever host runs it:
 * the Node response host replaces the response it holds, the Fastify host the reply's payload.
 */

/** Headers of the replaced response that would describe the wrong body. */
export const BODY_HEADERS: readonly string[] = [
  'Content-Length',
  'Content-Type',
  'Content-Encoding',
  'ETag',
  'Last-Modified',
];

/** The answer that replaces the response. */
export interface StrictFailure {
  /** 503 for a store error (with `Retry-After`), 500 for session data that cannot be saved. */
  status: number;
  /** Nest's JSON error shape. */
  body: string;
  /** Headers to set (the {@link BODY_HEADERS} of the replaced response are removed first). */
  headers: readonly (readonly [name: string, value: string])[];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An error thrown while deciding or starting the write: the session data cannot be saved. */
export function asDataError(err: unknown): SessionDataError {
  return err instanceof SessionDataError
    ? err
    : new SessionDataError(`Session data is not serializable: ${messageOf(err)}`, { cause: err });
}

/** The answer for `err`: a store error is a 503, bad session data ({@link SessionDataError}) a 500. */
export function strictFailure(err: unknown): StrictFailure {
  const unavailable = !(err instanceof SessionDataError);
  const status = unavailable ? 503 : 500;
  const body = JSON.stringify({
    statusCode: status,
    message: unavailable ? 'Session store unavailable' : err.message,
    error: unavailable ? 'Service Unavailable' : 'Internal Server Error',
  });
  const headers: [string, string][] = [
    ['Content-Type', 'application/json; charset=utf-8'],
    ['Content-Length', String(Buffer.byteLength(body))],
    ['Cache-Control', 'no-store'],
  ];
  if (unavailable) headers.push(['Retry-After', '1']);
  return { status, body, headers };
}
