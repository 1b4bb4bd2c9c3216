/**
 * GraphQL is optional: an application without it must never load `graphql`, `@nestjs/graphql` or
 * a driver, though nest-session registers its GraphQL context support at load. Each is replaced
 * by a module that throws when required, then an HTTP-only application boots and serves, guard
 * refusals included (they take the HTTP path, not the GraphQL one).
 */
import 'reflect-metadata';

const loaded: string[] = [];
jest.mock('graphql', () => {
  loaded.push('graphql');
  throw new Error('graphql was loaded');
});
jest.mock('@nestjs/graphql', () => {
  loaded.push('@nestjs/graphql');
  throw new Error('@nestjs/graphql was loaded');
});
jest.mock('@nestjs/apollo', () => {
  loaded.push('@nestjs/apollo');
  throw new Error('@nestjs/apollo was loaded');
});
jest.mock('@nestjs/mercurius', () => {
  loaded.push('@nestjs/mercurius');
  throw new Error('@nestjs/mercurius was loaded');
});

import { Controller, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { type RequestSession, RequireSession, Session, SessionModule } from '../../../lib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

@Controller()
class CountController {
  @Get('count') count(@Session() session: RequestSession) {
    const s = session as unknown as { visits?: number };
    s.visits = (s.visits ?? 0) + 1;
    return { visits: s.visits };
  }

  @Get('members') @RequireSession() members() {
    return { ok: true };
  }
}

describe('an application without GraphQL', () => {
  it('never loads graphql, @nestjs/graphql or a GraphQL driver', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ secret: 'x'.repeat(32) })],
      controllers: [CountController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      await request(app.getHttpServer()).get('/members').expect(401);
      const agent = request.agent(app.getHttpServer());
      await agent.get('/count').expect(200, { visits: 1 });
      await agent.get('/members').expect(200, { ok: true });
      expect(loaded).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('the GraphQL peers', () => {
  it('are declared optional (@nestjs/graphql for Nest 11 and 12, graphql 16), no driver', () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    const peers = manifest.peerDependencies;
    const meta = manifest.peerDependenciesMeta;
    expect(peers['@nestjs/graphql']).toBe('^13.0.0 || ^14.0.0');
    expect(peers.graphql).toBe('^16.0.0');
    expect(meta['@nestjs/graphql']?.optional).toBe(true);
    expect(meta.graphql?.optional).toBe(true);
    for (const driver of ['@nestjs/apollo', '@nestjs/mercurius', '@apollo/server', 'mercurius']) {
      expect(peers[driver]).toBeUndefined();
    }
  });
});
