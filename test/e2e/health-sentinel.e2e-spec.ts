/**
 * `GET /health` on a RedisStore with a Sentinel-configured client (private primary, replica and
 * three sentinels): the check pings the primary the client is connected to, and after a
 * failover names the new primary.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RedisStore } from '../../lib';
import { bootHealthApp } from '../support/health-app';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { eventually } from '../support/eventually';
import { ready } from '../support/redis-server';
import { type RedisSentinelHandle, startRedisSentinel } from '../support/redis-sentinel';

describe.each(HTTP_ADAPTERS)('session health check with a Sentinel client (%s)', (kind) => {
  let sentinel: RedisSentinelHandle;
  let app: INestApplication;
  let store: RedisStore;

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    const client = sentinel.client();
    client.on('error', () => undefined);
    await ready(client);
    store = new RedisStore({ client, prefix: sentinel.prefix });
    store.on('warning', () => undefined); // the failover guard narrates the switch
    app = await bootHealthApp(kind, { store }, { timeout: 500 });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    store?.close();
    await sentinel?.stop();
  });

  const pinged = async (): Promise<string[] | undefined> => {
    const res = await request(app.getHttpServer()).get('/health');
    if (res.status !== 200) return undefined;
    return res.body.info.session.nodes.map((n: { node: string }) => n.node);
  };

  it('pings the primary, and the new primary after a failover', async () => {
    const { primary } = await sentinel.roles();
    expect(await pinged()).toEqual([`127.0.0.1:${primary}`]);
    const { to } = await sentinel.failover();
    expect(
      await eventually(
        async () => JSON.stringify(await pinged()) === JSON.stringify([`127.0.0.1:${to}`]),
        15_000,
      ),
    ).toBe(true);
  }, 60_000);
});
