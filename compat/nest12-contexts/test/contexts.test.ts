/**
 * Sessions in GraphQL resolvers (Apollo on Express) and WebSocket gateways (socket.io, ws) on
 * Nest 12 (ESM), with nest-session installed from its `npm pack` tarball: the session of the
 * HTTP request in a resolver, UNAUTHENTICATED without one, a mutation persisted; the upgrade
 * request's session in a gateway, saved after a handler, and the socket closed on logout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { connections, type SocketKind, startApp } from '../src/app.js';

async function post(url: string, cookie?: string): Promise<{ status: number; cookie?: string }> {
  const res = await fetch(url, { method: 'POST', headers: cookie ? { cookie } : {} });
  await res.text();
  const set = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
  return { status: res.status, cookie: set?.split(';')[0] };
}

async function gql(
  url: string,
  query: string,
  cookie?: string,
): Promise<{ data?: any; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as never;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One connected client, whichever the library: send an event, await its answer, see it close. */
interface Conn {
  ask(event: string): Promise<unknown>;
  closed(): boolean;
  close(): void;
}

async function connect(kind: SocketKind, url: string, cookie: string): Promise<Conn> {
  if (kind === 'socket.io') {
    const socket: Socket = io(url, {
      transports: ['websocket'],
      extraHeaders: { cookie },
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    let gone = false;
    socket.on('disconnect', () => (gone = true));
    return {
      ask: (event) =>
        new Promise((resolve) => {
          socket.once(event, resolve);
          socket.emit(event, {});
        }),
      closed: () => gone,
      close: () => socket.close(),
    };
  }
  const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers: { cookie } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let gone = false;
  ws.on('close', () => (gone = true));
  return {
    ask: (event) =>
      new Promise((resolve) => {
        const onMessage = (raw: WebSocket.RawData) => {
          const message = JSON.parse(raw.toString()) as { event: string; data: unknown };
          if (message.event !== event) return;
          ws.off('message', onMessage);
          resolve(message.data);
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ event, data: {} }));
      }),
    closed: () => gone,
    close: () => ws.close(),
  };
}

for (const kind of ['socket.io', 'ws'] as const) {
  describe(`Nest 12: GraphQL (Apollo, Express) and a ${kind} gateway`, () => {
    let app: INestApplication;
    let url: string;
    let cookie: string;
    before(async () => {
      ({ app, url } = await startApp(kind));
      const login = await post(`${url}/auth/login`);
      assert.equal(login.status, 200);
      assert.ok(login.cookie, 'login sets the session cookie');
      cookie = login.cookie;
    });
    after(() => app?.close());

    it('a resolver reads the HTTP request session; without one: UNAUTHENTICATED', async () => {
      const mine = await gql(url, '{ me sessionId }', cookie);
      assert.equal(mine.errors, undefined);
      assert.equal(mine.data.me, 'alice');
      assert.match(mine.data.sessionId, /^.{32,}$/);
      const anonymous = await gql(url, '{ me }');
      assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    });

    it('a mutation persists the session', async () => {
      const renamed = await gql(url, 'mutation { rename(name: "Alice L.") }', cookie);
      assert.equal(renamed.data.rename, 'Alice L.');
      const read = await gql(url, '{ name }', cookie);
      assert.equal(read.data.name, 'Alice L.');
    });

    it('a gateway reads the upgrade request session, saves a handler change, and closes on logout', async () => {
      const conn = await connect(kind, url, cookie);
      try {
        assert.deepEqual((await conn.ask('whoami')) as { user: string }, {
          user: 'alice',
          id: (await gql(url, '{ sessionId }', cookie)).data.sessionId,
        });
        assert.equal(connections.at(-1)?.user, 'alice');
        assert.equal(await conn.ask('count'), 1);
        assert.equal(await conn.ask('count'), 2);
        // Saved when the handler completed: an HTTP request sees it.
        assert.equal((await gql(url, '{ messages }', cookie)).data.messages, 2);
        const logout = await post(`${url}/auth/logout`, cookie);
        assert.equal(logout.status, 200);
        await until(() => conn.closed());
      } finally {
        conn.close();
      }
    });
  });
}
