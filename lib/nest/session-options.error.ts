/** Thrown at startup when a `SessionModule` option is invalid; the message names the option. */
export class SessionOptionsError extends TypeError {
  constructor(
    /** The option at fault, e.g. `cookie.sameSite`. */
    readonly option: string,
    message: string,
  ) {
    super(`nest-session: invalid option "${option}": ${message}`);
    this.name = 'SessionOptionsError';
  }
}
