/**
 * A real Nest application with `@nestjs/terminus` and the session health check, for the
 * `health-*` e2e suites: `GET /health` runs `SessionHealthIndicator.isHealthy('session')`.
 */
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { SessionModule, type SessionModuleOptions } from '../../lib';
import {
  SessionHealthIndicator,
  SessionHealthModule,
  type SessionHealthOptions,
} from '../../lib/terminus';
import { type HttpAdapterKind, createAppOn, initApp } from './http-adapters';

export const HEALTH_SECRET = 'a-test-secret-that-is-long-enough-1234';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly session: SessionHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.session.isHealthy('session')]);
  }
}

/** Boots the application on `kind` with these session and health options. */
export async function bootHealthApp(
  kind: HttpAdapterKind,
  session: Partial<SessionModuleOptions>,
  health: SessionHealthOptions = {},
): Promise<INestApplication> {
  @Module({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      SessionModule.forRoot({ secret: HEALTH_SECRET, ...session }),
      SessionHealthModule.forRoot(health),
    ],
    controllers: [HealthController],
  })
  class HealthAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [HealthAppModule] }).compile();
  return initApp(createAppOn(moduleRef, kind));
}

/** The pid of the redis-server a client is connected to (`INFO server`). */
export async function serverPid(client: Redis): Promise<number> {
  const info = await client.info('server');
  const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error('no process_id in INFO server');
  return pid;
}

/** SIGSTOP / SIGCONT: a frozen server keeps its connections open and answers nothing. */
export function signal(pid: number, name: 'SIGSTOP' | 'SIGCONT'): void {
  process.kill(pid, name);
}
