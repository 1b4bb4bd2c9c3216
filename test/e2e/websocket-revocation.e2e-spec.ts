/**
 * Revocation across instances: two applications (A and B) share one private Redis through their
 * own RedisStore and client. A logout or a "sign out everywhere" over HTTP on A closes the
 * sockets of those sessions connected to B (Redis pub/sub), on socket.io and ws, Express and
 * Fastify; the other sessions' sockets stay.
 */
import 'reflect-metadata';
import request from 'supertest';
import { RedisStore } from '../../lib';
import { eventually } from '../support/eventually';
import { cookie as cookieOf } from '../support/express-helpers';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { type RedisHandle, startRedis } from '../support/redis-server';
import { type SocketApp, startSocketApp } from '../support/socket-apps';
import { SOCKET_KINDS, type TestSocket, connectSocket } from '../support/socket-clients';

const secret = 'websocket-revocation-secret-long-enough';

describe('revocation of live sockets across two instances on one Redis', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  }, 60_000);
  afterAll(() => redis?.stop());

  describe.each(HTTP_ADAPTERS)('on %s', (http) => {
    describe.each(SOCKET_KINDS)('with %s', (socketKind) => {
      let a: SocketApp;
      let b: SocketApp;
      const stores: RedisStore[] = [];
      const sockets: TestSocket[] = [];

      beforeAll(async () => {
        const prefix = `${redis.prefix}${http}:${socketKind}:`;
        for (let i = 0; i < 2; i++) stores.push(new RedisStore({ client: redis.client(), prefix }));
        a = await startSocketApp(http, socketKind, { secret, store: stores[0] });
        b = await startSocketApp(http, socketKind, { secret, store: stores[1] });
      });
      afterAll(async () => {
        for (const s of sockets.splice(0)) s.close();
        await a?.close();
        await b?.close();
        for (const store of stores) store.close();
      });

      async function loginOnA(user: string): Promise<string> {
        return cookieOf(await request(a.app.getHttpServer()).post('/login').send({ user }), 'sid');
      }
      async function connectToB(cookie: string): Promise<TestSocket> {
        const socket = await connectSocket(socketKind, b.port, { Cookie: cookie });
        sockets.push(socket);
        return socket;
      }

      it('a logout over HTTP on A disconnects the socket on B', async () => {
        const cookie = await loginOnA('alice');
        const other = await loginOnA('bob');
        const socket = await connectToB(cookie);
        const bob = await connectToB(other);
        expect((await socket.request('whoami')).data).toMatchObject({ user: 'alice' });
        await request(a.app.getHttpServer()).post('/logout').set('Cookie', cookie).expect(201);
        expect(await eventually(async () => socket.closed)).toBe(true);
        expect(bob.closed).toBe(false);
        expect((await bob.request('whoami')).data).toMatchObject({ user: 'bob' });
      });

      it('destroyForUser on A disconnects every socket of that user on B', async () => {
        const laptop = await loginOnA('carol');
        const phone = await loginOnA('carol');
        const onLaptop = await connectToB(laptop);
        const onPhone = await connectToB(phone);
        await request(a.app.getHttpServer())
          .post('/everywhere')
          .set('Cookie', laptop)
          .expect(201, { revoked: 2 });
        expect(await eventually(async () => onLaptop.closed && onPhone.closed)).toBe(true);
      });
    });
  });
});
