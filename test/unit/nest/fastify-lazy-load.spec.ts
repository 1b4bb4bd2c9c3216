/**
 * `@nestjs/platform-fastify` is an optional peer: an Express application must never load the
 * Fastify integration, Fastify, or Nest's Fastify adapter (nor the WebSocket peers:
 * `@nestjs/websockets`, `@nestjs/platform-socket.io`, `@nestjs/platform-ws`). Each is replaced by a module that
 * throws when required, then an Express application with SessionModule boots and serves.
 */
import 'reflect-metadata';

const loaded: string[] = [];
jest.mock('../../../lib/fastify/fastify-integration', () => {
  loaded.push('lib/fastify/fastify-integration');
  throw new Error('the Fastify integration was loaded');
});
jest.mock('fastify', () => {
  loaded.push('fastify');
  throw new Error('fastify was loaded');
});
jest.mock('@nestjs/platform-fastify', () => {
  loaded.push('@nestjs/platform-fastify');
  throw new Error('@nestjs/platform-fastify was loaded');
});
// The WebSocket packages too: nest-session never requires them outside its subpaths. (Nest's own
// `@nestjs/core` requires `@nestjs/websockets/socket-module` at load whenever the package is
// installed, through its optionalRequire: that subpath is not mocked here, and that load is Nest's.)
jest.mock('@nestjs/websockets', () => {
  loaded.push('@nestjs/websockets');
  throw new Error('@nestjs/websockets was loaded');
});
jest.mock('@nestjs/platform-socket.io', () => {
  loaded.push('@nestjs/platform-socket.io');
  throw new Error('@nestjs/platform-socket.io was loaded');
});
jest.mock('@nestjs/platform-ws', () => {
  loaded.push('@nestjs/platform-ws');
  throw new Error('@nestjs/platform-ws was loaded');
});

import { Controller, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { type RequestSession, Session, SessionModule } from '../../../lib';

@Controller()
class CountController {
  @Get('count') count(@Session() session: RequestSession) {
    const s = session as unknown as { visits?: number };
    s.visits = (s.visits ?? 0) + 1;
    return { visits: s.visits };
  }
}

describe('an Express application', () => {
  it('never loads the Fastify integration, fastify or @nestjs/platform-fastify', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ secret: 'x'.repeat(32) })],
      controllers: [CountController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const agent = request.agent(app.getHttpServer());
      await agent.get('/count').expect(200, { visits: 1 });
      await agent.get('/count').expect(200, { visits: 2 });
      expect(app.getHttpAdapter().getType()).toBe('express');
      expect(loaded).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
