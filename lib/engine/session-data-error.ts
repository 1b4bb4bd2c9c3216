/**
 * The session's data cannot be stored: it is not serializable (BigInt, cycles, nesting too deep)
 * or larger than the configured `maxSize`. The Nest module answers 500 with this message; the
 * stored session is left as it was.
 */
export class SessionDataError extends Error {
  /** Machine-readable code. */
  readonly code = 'ESESSIONDATA';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionDataError';
  }
}
