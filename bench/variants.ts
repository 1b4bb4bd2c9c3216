/**
 * The benchmark's server variants: names, what they run on, and what they are compared with.
 * Shared by the runner (`run.ts`) and the server child (`server.ts`).
 */

/** Which store a variant keeps its sessions in. */
export type StoreKind = 'none' | 'memory' | 'redis' | 'cluster';

/** Which framework a variant runs on (`fastify`: Nest on `@nestjs/platform-fastify`). */
export type Framework = 'nest' | 'express' | 'fastify';

export interface VariantInfo {
  /** Stable id (command line, child argv). */
  id: string;
  /** Label in the results table. */
  label: string;
  framework: Framework;
  store: StoreKind;
  /** The session middleware: none, express-session, nestjs-session, @fastify/session, or ours. */
  engine: 'none' | 'express-session' | 'nestjs-session' | 'fastify-session' | 'nest-session';
  /** nest-session with encryption at rest (`encryption: { keys: [ENCRYPTION_KEY] }`). */
  encrypted?: boolean;
}

export const VARIANTS: readonly VariantInfo[] = [
  { id: 'nest-bare', label: 'Nest (no session)', framework: 'nest', store: 'none', engine: 'none' },
  {
    id: 'nest-es-memory',
    label: 'Nest + express-session (app.use, MemoryStore)',
    framework: 'nest',
    store: 'memory',
    engine: 'express-session',
  },
  {
    id: 'nest-nestjs-session-memory',
    label: 'Nest + nestjs-session (MemoryStore)',
    framework: 'nest',
    store: 'memory',
    engine: 'nestjs-session',
  },
  {
    id: 'nest-ns-memory',
    label: 'Nest + nest-session (MemoryStore)',
    framework: 'nest',
    store: 'memory',
    engine: 'nest-session',
  },
  {
    id: 'nest-es-redis',
    label: 'Nest + express-session + connect-redis 8.1',
    framework: 'nest',
    store: 'redis',
    engine: 'express-session',
  },
  {
    id: 'nest-nestjs-session-redis',
    label: 'Nest + nestjs-session + connect-redis 8.1',
    framework: 'nest',
    store: 'redis',
    engine: 'nestjs-session',
  },
  {
    id: 'nest-ns-redis',
    label: 'Nest + nest-session (RedisStore)',
    framework: 'nest',
    store: 'redis',
    engine: 'nest-session',
  },
  {
    id: 'nest-ns-redis-encrypted',
    label: 'Nest + nest-session (RedisStore, encrypted)',
    framework: 'nest',
    store: 'redis',
    engine: 'nest-session',
    encrypted: true,
  },
  {
    id: 'nest-ns-cluster',
    label: 'Nest + nest-session (RedisStore, 3-master Cluster)',
    framework: 'nest',
    store: 'cluster',
    engine: 'nest-session',
  },
  {
    id: 'express-bare',
    label: 'express (no session)',
    framework: 'express',
    store: 'none',
    engine: 'none',
  },
  {
    id: 'express-es-memory',
    label: 'express + express-session (MemoryStore)',
    framework: 'express',
    store: 'memory',
    engine: 'express-session',
  },
  {
    id: 'express-ns-memory',
    label: 'express + nest-session/express (MemoryStore)',
    framework: 'express',
    store: 'memory',
    engine: 'nest-session',
  },
  {
    id: 'fastify-bare',
    label: 'Nest on Fastify (no session)',
    framework: 'fastify',
    store: 'none',
    engine: 'none',
  },
  {
    id: 'fastify-fs-memory',
    label: 'Nest on Fastify + @fastify/session (its default store)',
    framework: 'fastify',
    store: 'memory',
    engine: 'fastify-session',
  },
  {
    id: 'fastify-ns-memory',
    label: 'Nest on Fastify + nest-session (MemoryStore)',
    framework: 'fastify',
    store: 'memory',
    engine: 'nest-session',
  },
  {
    id: 'fastify-fs-redis',
    label: 'Nest on Fastify + @fastify/session + connect-redis 8.1',
    framework: 'fastify',
    store: 'redis',
    engine: 'fastify-session',
  },
  {
    id: 'fastify-ns-redis',
    label: 'Nest on Fastify + nest-session (RedisStore)',
    framework: 'fastify',
    store: 'redis',
    engine: 'nest-session',
  },
];

export function variant(id: string): VariantInfo {
  const found = VARIANTS.find((v) => v.id === id);
  if (!found) throw new Error(`unknown variant ${id}`);
  return found;
}

/** Same secret and cookie settings for every variant. */
export const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const MAX_AGE = 24 * 60 * 60 * 1000;
/** The encryption key of the encrypted variant (64 hex characters: 32 bytes). */
export const ENCRYPTION_KEY = 'b3'.repeat(32);

/** The data a signed-in session holds (S4 and the cookie pool create it, S2 reads it). */
export function sessionPayload(): {
  user: { id: string; name: string; roles: string[] };
  hits: number;
} {
  return { user: { id: 'u-1234567890', name: 'Bench User', roles: ['reader', 'writer'] }, hits: 0 };
}

/** Messages between the runner and a server child (IPC). */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | {
      type: 'stats';
      cpuMicros: number;
      rss: number;
      maxRss: number;
      heapUsed: number;
      /** HTTP requests the server received since it started. */
      requests: number;
      /** Redis commands the server's client sent so far, by name. */
      redisCommands: Record<string, number>;
    }
  | { type: 'error'; message: string };

export type ParentMessage = { type: 'stats' };
