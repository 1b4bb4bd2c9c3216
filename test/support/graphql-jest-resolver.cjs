/**
 * Jest's resolver, but for one ESM-only package Mercurius needs: `@fastify/static` (loaded by
 * Mercurius for GraphiQL) requires `content-disposition` 3, which is ESM. Node 20.19+ requires
 * it natively; Jest's module registry cannot (before Node 24.9). For that one require, Jest gets
 * a bridge that loads the real package with Node's own `require` (see graphql-esm-bridge.cjs).
 */
const path = require('node:path');

module.exports = (request, options) => {
  if (request === 'content-disposition' && /[\\/]@fastify[\\/]static([\\/]|$)/.test(options.basedir)) {
    return path.join(__dirname, 'graphql-esm-bridge.cjs');
  }
  return options.defaultResolver(request, options);
};
