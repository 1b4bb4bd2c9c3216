/**
 * The layers of `lib/`, checked by dependency-cruiser in `npm run lint` (see the README's
 * "Architecture"). Lower layers never import higher ones:
 *
 *   lib/engine/   the session engine and the store protocol: imports nothing else of lib/
 *   lib/stores/   concrete stores: build on the engine only
 *   lib/nest/     the Nest module: engine and stores
 *   adapters      the entry points (lib/index.ts, lib/express.ts, lib/middleware.ts) and the
 *                 adapter folders (lib/fastify/, and to come lib/socket.io/, lib/ws/, ...):
 *                 engine, stores and nest, never one another (lib/middleware.ts, the Connect
 *                 middleware, is the one they may share). lib/fastify/ is required lazily by
 *                 lib/index.ts only (an Express application never loads it). lib/terminus/ (the
 *                 health check) is its own entry point, `nest-session/terminus`: nothing in lib/
 *                 loads it, so @nestjs/terminus stays an optional peer.
 *
 * Type-only imports count too: a cycle through types is still a cycle to a reader.
 */

/** lib/ paths that are not in a layer folder: the entry points and adapters. */
const ADAPTER = '^lib/(?!engine/|stores/|nest/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere in lib/ (type-only imports included).',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'engine-imports-no-higher-layer',
      severity: 'error',
      comment:
        'lib/engine is the bottom layer: it defines the store protocol and the transport seam, ' +
        'and never imports stores, the Nest module or an adapter.',
      from: { path: '^lib/engine/' },
      to: { path: '^lib/', pathNot: '^lib/engine/' },
    },
    {
      name: 'stores-import-only-the-engine',
      severity: 'error',
      comment: 'Concrete stores depend on the engine (its store protocol), nothing above it.',
      from: { path: '^lib/stores/' },
      to: { path: '^lib/', pathNot: '^lib/(engine|stores)/' },
    },
    {
      name: 'nest-imports-engine-and-stores',
      severity: 'error',
      comment: 'The Nest module builds on the engine and the stores, never on an adapter.',
      from: { path: '^lib/nest/' },
      to: { path: '^lib/', pathNot: '^lib/(engine|stores|nest)/' },
    },
    {
      name: 'adapters-import-no-other-adapter',
      severity: 'error',
      comment:
        'An adapter entry point (lib/express.ts, lib/middleware.ts, ...) builds on engine, ' +
        'stores and nest; only lib/index.ts gathers the adapters, and lib/middleware.ts (the ' +
        'Connect middleware) is the one they may share.',
      from: { path: '^lib/[^/]+[.]ts$', pathNot: '^lib/index[.]ts$' },
      to: { path: ADAPTER, pathNot: '^lib/middleware[.]ts$' },
    },
    {
      name: 'adapter-folders-import-no-other-adapter',
      severity: 'error',
      comment:
        'An adapter folder (lib/fastify/, lib/socket.io/, lib/ws/, ...) builds on engine, stores ' +
        'and nest, and on its own files; never on another adapter.',
      from: { path: '^lib/([^/]+)/', pathNot: '^lib/(engine|stores|nest)/' },
      to: { path: ADAPTER, pathNot: ['^lib/$1/', '^lib/middleware[.]ts$'] },
    },
    {
      name: 'fastify-loaded-only-by-the-entry-point',
      severity: 'error',
      comment:
        'lib/fastify/ (the Fastify integration) is required lazily by lib/index.ts, and only when ' +
        'an application runs on FastifyAdapter; nothing else may load it (nor fastify).',
      from: { path: '^lib/', pathNot: ['^lib/index[.]ts$', '^lib/fastify/'] },
      to: { path: '^lib/fastify/' },
    },
    {
      name: 'terminus-is-its-own-entry-point',
      severity: 'error',
      comment:
        'lib/terminus/ (the @nestjs/terminus health check) is reached only through the ' +
        "'nest-session/terminus' subpath export: nothing else in lib/ may load it (nor " +
        '@nestjs/terminus, an optional peer).',
      from: { path: '^lib/', pathNot: '^lib/terminus/' },
      to: { path: ['^lib/terminus/', '@nestjs/terminus'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a typo or a missing package fails here, not at runtime).',
      from: { path: '^lib/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    includeOnly: '^lib/',
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
    },
  },
};
