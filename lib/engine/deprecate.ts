import depd from 'depd';

/**
 * Deprecation notices, under express-session's namespace so that existing
 * `NO_DEPRECATION=express-session` settings keep silencing them.
 */
export const deprecate = depd('express-session');
