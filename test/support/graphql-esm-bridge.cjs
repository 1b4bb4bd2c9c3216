/**
 * `@fastify/static`'s `content-disposition` (ESM-only), loaded with Node's own `require`
 * (`require(esm)`, Node 20.19+) instead of Jest's: the real package, outside Jest's registry.
 * `process.getBuiltinModule` gives Node's `module`, not Jest's wrapper of it.
 */
const { createRequire } = process.getBuiltinModule('node:module');
const staticEntry = require.resolve('@fastify/static');
module.exports = createRequire(staticEntry)('content-disposition');
