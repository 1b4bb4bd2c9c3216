/** Token of the options exactly as given to `forRoot`/`forRootAsync`. @internal */
export const SESSION_MODULE_OPTIONS = Symbol('SESSION_MODULE_OPTIONS');
/** Token of the validated options with defaults applied. @internal */
export const SESSION_RESOLVED_OPTIONS = Symbol('SESSION_RESOLVED_OPTIONS');
/** Token of the running session engine. @internal */
export const SESSION_ENGINE = Symbol('SESSION_ENGINE');
