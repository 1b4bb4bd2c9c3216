/**
 * `GET /health` (terminus + `SessionHealthIndicator`) on a RedisStore backed by a private
 * redis-server, through real HTTP: up while Redis runs, down (503, naming the store and the
 * server) when it is stopped or frozen (SIGSTOP: the check times out instead of hanging), and up
 * again once Redis is back, without restarting the application.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RedisStore } from '../../lib';
import { bootHealthApp, serverPid, signal } from '../support/health-app';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { eventually } from '../support/eventually';
import { type RedisHandle, ready, startRedis } from '../support/redis-server';

const TIMEOUT = 300;

describe.each(HTTP_ADAPTERS)('session health check on RedisStore (%s)', (kind) => {
  let redis: RedisHandle;
  let app: INestApplication;
  let node: string;

  beforeAll(async () => {
    redis = await startRedis({ requirePrivate: true });
    const client = redis.client({ maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    await ready(client);
    node = `127.0.0.1:${redis.port}`;
    const store = new RedisStore({ client, prefix: redis.prefix, timeout: 1000 });
    app = await bootHealthApp(kind, { store }, { timeout: TIMEOUT });
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  const health = () => request(app.getHttpServer()).get('/health');
  const isUp = async () => (await health()).status === 200;

  it('is up while Redis answers, with the latency and the server pinged', async () => {
    const res = await health().expect(200);
    expect(res.body.status).toBe('ok');
    const session = res.body.info.session;
    expect(session).toMatchObject({ status: 'up', store: 'RedisStore', check: 'PING' });
    expect(typeof session.latencyMs).toBe('number');
    expect(session.nodes).toEqual([expect.objectContaining({ node, ok: true })]);
  });

  it('is down (503, naming the store and the server) while Redis is stopped, up once it restarts', async () => {
    await redis.down();
    try {
      const res = await health().expect(503);
      expect(res.body.status).toBe('error');
      const session = res.body.error.session;
      expect(session.status).toBe('down');
      expect(session.message).toMatch(/^RedisStore is unavailable: /);
      expect(session.failedNodes).toEqual([node]);
    } finally {
      await redis.up();
    }
    expect(await eventually(isUp, 10_000)).toBe(true);
    const res = await health().expect(200);
    expect(res.body.info.session.nodes).toEqual([expect.objectContaining({ node, ok: true })]);
  });

  it('is down when Redis is frozen (SIGSTOP): the check times out instead of hanging', async () => {
    const client = redis.client();
    const pid = await serverPid(client);
    client.disconnect();
    signal(pid, 'SIGSTOP');
    try {
      const res = await health().expect(503);
      const session = res.body.error.session;
      expect(session.message).toContain(`Redis ${node} did not answer within ${TIMEOUT} ms`);
      expect(session.failedNodes).toEqual([node]);
      expect(session.nodes[0].ok).toBe(false);
    } finally {
      signal(pid, 'SIGCONT');
    }
    expect(await eventually(isUp, 10_000)).toBe(true);
  });
});
