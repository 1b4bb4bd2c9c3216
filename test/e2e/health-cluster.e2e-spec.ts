/**
 * `GET /health` on a RedisStore over a private three-master Redis Cluster: every master is
 * pinged; one frozen master (SIGSTOP) makes the check down, naming that master, while the
 * others are reported up; the check is up again once it answers.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RedisStore } from '../../lib';
import { bootHealthApp, serverPid, signal } from '../support/health-app';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { eventually } from '../support/eventually';
import { type RedisClusterHandle, ready, startRedisCluster } from '../support/redis-server';

const TIMEOUT = 300;

describe.each(HTTP_ADAPTERS)('session health check on a Redis Cluster (%s)', (kind) => {
  let cluster: RedisClusterHandle;
  let app: INestApplication;
  let masters: string[];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const client = cluster.cluster();
    client.on('error', () => undefined);
    await ready(client);
    masters = cluster.nodes.map((n) => `${n.host}:${n.port}`).sort();
    const store = new RedisStore({ client, prefix: cluster.prefix, timeout: 1000 });
    app = await bootHealthApp(kind, { store }, { timeout: TIMEOUT });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  const health = () => request(app.getHttpServer()).get('/health');

  it('pings every master and is up', async () => {
    const res = await health().expect(200);
    const session = res.body.info.session;
    expect(session).toMatchObject({ status: 'up', store: 'RedisStore', check: 'PING' });
    expect(session.nodes.map((n: { node: string }) => n.node).sort()).toEqual(masters);
    expect(session.nodes.every((n: { ok: boolean }) => n.ok)).toBe(true);
  });

  it('is down naming the one master that does not answer, and up again once it does', async () => {
    const victim = cluster.nodeClient(1);
    const pid = await serverPid(victim);
    victim.disconnect();
    const stopped = `${cluster.nodes[1]?.host}:${cluster.nodes[1]?.port}`;
    signal(pid, 'SIGSTOP');
    try {
      const res = await health().expect(503);
      const session = res.body.error.session;
      expect(session.status).toBe('down');
      expect(session.failedNodes).toEqual([stopped]);
      expect(session.message).toContain(
        `RedisStore is unavailable: Redis ${stopped} did not answer`,
      );
      const up = session.nodes
        .filter((n: { ok: boolean }) => n.ok)
        .map((n: { node: string }) => n.node);
      expect(up.sort()).toEqual(masters.filter((m) => m !== stopped));
    } finally {
      signal(pid, 'SIGCONT');
    }
    expect(await eventually(async () => (await health()).status === 200, 10_000)).toBe(true);
  });
});
