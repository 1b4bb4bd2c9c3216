/** The message of an error (or the value as a string). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The error every failing {@link RedisStore} operation reports: its message names the operation
 * (`'RedisStore get failed: …'`), `cause` is the client's error when there is one.
 */
export class RedisStoreError extends Error {
  /** `'ESTORETIMEOUT'` when Redis did not answer in time, else `'ESTOREFAILED'`. */
  readonly code: 'ESTORETIMEOUT' | 'ESTOREFAILED';

  /**
   * @param operation the store method that failed (`get`, `set`, `touch`, `destroy`, `ids`, …)
   * @param detail what went wrong
   * @param options `cause`: the underlying error; `timedOut`: Redis did not answer in time
   */
  constructor(
    readonly operation: string,
    detail: string,
    options: { cause?: unknown; timedOut?: boolean } = {},
  ) {
    super(
      `RedisStore ${operation} failed: ${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'RedisStoreError';
    this.code = options.timedOut ? 'ESTORETIMEOUT' : 'ESTOREFAILED';
  }
}
