/**
 * Encryption at rest (`encryption: { keys }`), over real HTTP against a Nest app on a MemoryStore,
 * and a private Redis: what is stored, records that cannot be opened, rotation, migration from
 * records in clear, no resurrection through the wrapper, one command per read, the injected
 * SessionStore, startup validation, and the express drop-in. The per-user index with encryption
 * (memory, Redis, Cluster) is tested in user-sessions.e2e-spec.ts.
 */
import 'reflect-metadata';
import { type INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import express from 'express';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  HTTP_ADAPTERS,
  type HttpAdapterKind,
  createAppOn,
  initApp,
} from '../support/http-adapters';
import {
  type MemoryStore,
  SessionModule,
  type SessionModuleOptions,
  SessionStore,
} from '../../lib';
import session from '../../lib/express';
import { RecordCipher } from '../../lib/engine/encryption';
import { cookiePair, sessionIdOf } from './fixtures/cookies';
import { SecurityController } from '../support/security-controllers';
import {
  type AppHarness,
  STORE_KINDS,
  bootError,
  bootFixture,
  signedPair,
  wellFormedId,
} from '../support/security-harness';
import { commandDelta, commandStats } from '../support/redis-server';
import { eventually } from '../support/eventually';

const A = randomBytes(32);
const B = randomBytes(32);
const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The key id a key's records carry. */
function keyIdOf(key: Buffer): string {
  return new RecordCipher({ keys: [key] }).seal('x', '{}').split('.')[1] as string;
}

function liveCookie() {
  return {
    originalMaxAge: HOUR,
    expires: new Date(Date.now() + HOUR).toISOString(),
    httpOnly: true,
    path: '/',
  };
}

/** A second app on the same store (another configuration of the same deployment). */
async function bootOn(
  store: SessionStore,
  secret: string,
  options: Partial<SessionModuleOptions>,
  adapter: HttpAdapterKind = 'express',
): Promise<INestApplication> {
  @Module({
    imports: [SessionModule.forRoot({ secret, store, storeTimeout: 3000, ...options })],
    controllers: [SecurityController],
  })
  class OtherModule {}
  const moduleRef = await Test.createTestingModule({ imports: [OtherModule] }).compile();
  return initApp(createAppOn(moduleRef, adapter));
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('encryption at rest on %s', (kind) => {
    let h: AppHarness;
    beforeAll(async () => {
      h = await bootFixture(
        kind,
        [SecurityController],
        { encryption: { keys: [A] }, cookie: { maxAge: HOUR } },
        {},
        adapter,
      );
    });
    afterAll(async () => {
      await h?.close();
    });

    /** The value as the store holds it (Redis: the string; MemoryStore: its JSON). */
    async function rawValue(id: string): Promise<string | undefined> {
      if (h.raw) return (await h.raw.get(h.prefix + id)) ?? undefined;
      return (h.store as MemoryStore).sessions[id];
    }

    function as(id: string) {
      return signedPair(h.name, id, h.secret);
    }

    async function newSession(visits = 1): Promise<{ id: string; pair: string }> {
      let res = await request(h.url).get('/count').expect(200, { visits: 1 });
      const pair = cookiePair(res, h.name);
      for (let i = 1; i < visits; i++) {
        res = await request(h.url).get('/count').set('Cookie', pair).expect(200);
      }
      return { id: sessionIdOf(pair), pair };
    }

    /** A planted record gives a fresh session (twice: no error loop) and is removed. */
    async function expectDiscarded(value: unknown) {
      const id = wellFormedId();
      await h.plant(id, value);
      for (let i = 0; i < 2; i++) {
        const res = await request(h.url).get('/count').set('Cookie', as(id)).expect(200);
        expect(res.body).toEqual({ visits: 1 });
        expect(sessionIdOf(cookiePair(res, h.name))).not.toBe(id);
      }
      expect(await eventually(async () => !(await h.stored(id)))).toBe(true);
    }

    it('round trip: the data comes back, and the store holds only the cookie and a ciphertext', async () => {
      const { id, pair } = await newSession(3);
      await request(h.url).get('/count').set('Cookie', pair).expect(200, { visits: 4 });
      const raw = (await rawValue(id)) as string;
      expect(raw).not.toMatch(/visits/);
      const record = JSON.parse(raw) as Record<string, unknown>;
      expect(Object.keys(record)).toEqual(['cookie', '$enc']);
      expect(record.$enc).toMatch(
        new RegExp(`^v1\\.${keyIdOf(A)}\\.[A-Za-z0-9_-]{32}\\.[A-Za-z0-9_-]+$`),
      );
      expect((record.cookie as { originalMaxAge: number }).originalMaxAge).toBe(HOUR);
      // The session's values are nowhere in clear.
      const peek = await request(h.url).get('/peek').set('Cookie', pair).expect(200);
      expect(peek.body.data).toEqual({ visits: 4 });
    });

    it('a record copied to another id is discarded (the id is bound to the ciphertext)', async () => {
      const { id } = await newSession(2);
      await expectDiscarded(JSON.parse((await rawValue(id)) as string));
    });

    it('a tampered ciphertext, an unknown key id or a malformed $enc gives a fresh session and is removed', async () => {
      const { id } = await newSession(2);
      const record = JSON.parse((await rawValue(id)) as string) as { cookie: object; $enc: string };
      const [v, keyId, nonce, body] = record.$enc.split('.') as [string, string, string, string];
      const bytes = Buffer.from(body, 'base64url');
      bytes[0] = (bytes[0] as number) ^ 1;
      const tampered = [v, keyId, nonce, bytes.toString('base64url')].join('.');
      const foreign = new RecordCipher({ keys: [B] }).seal(id, '{"visits":100}');
      for (const $enc of [tampered, foreign, 'v1.zz', 42, null, `v2.${keyId}.${nonce}.${body}`]) {
        await expectDiscarded({ cookie: liveCookie(), $enc });
      }
      // Clear keys planted beside a sealed value are never read.
      const { id: other } = await newSession(2);
      const sealed = JSON.parse((await rawValue(other)) as string) as Record<string, unknown>;
      await h.plant(other, { ...sealed, visits: 1000, isAdmin: true });
      const res = await request(h.url).get('/peek').set('Cookie', as(other)).expect(200);
      expect(res.body.data).toEqual({ visits: 2 });
    });

    it('migration: a record in clear is read, and sealed on its next save (not on a read)', async () => {
      const id = wellFormedId();
      await h.plant(id, { cookie: liveCookie(), visits: 5 });
      await request(h.url).get('/peek').set('Cookie', as(id)).expect(200);
      expect(await rawValue(id)).toMatch(/"visits":5/); // a read (and its touch) leaves it in clear
      await request(h.url).get('/count').set('Cookie', as(id)).expect(200, { visits: 6 });
      const raw = (await rawValue(id)) as string;
      expect(raw).not.toMatch(/visits/);
      expect(JSON.parse(raw)).toHaveProperty('$enc');
      await request(h.url).get('/count').set('Cookie', as(id)).expect(200, { visits: 7 });
    });

    it('acceptPlaintext: false discards a record in clear', async () => {
      const app = await bootOn(
        h.store,
        h.secret,
        {
          encryption: { keys: [A], acceptPlaintext: false },
        },
        adapter,
      );
      try {
        const id = wellFormedId();
        await h.plant(id, { cookie: liveCookie(), visits: 5 });
        const res = await request(app.getHttpServer()).get('/count').set('Cookie', as(id));
        expect(res.body).toEqual({ visits: 1 });
        expect(await eventually(async () => !(await h.stored(id)))).toBe(true);
      } finally {
        await app.close();
      }
    });

    it('rotation: written under A, read with [B, A], rewritten under B on the next save', async () => {
      const { id, pair } = await newSession(2);
      const app = await bootOn(h.store, h.secret, { encryption: { keys: [B, A] } }, adapter);
      try {
        const server = app.getHttpServer();
        await request(server).get('/peek').set('Cookie', pair).expect(200);
        expect(JSON.parse((await rawValue(id)) as string).$enc.split('.')[1]).toBe(keyIdOf(A));
        await request(server).get('/count').set('Cookie', pair).expect(200, { visits: 3 });
        expect(JSON.parse((await rawValue(id)) as string).$enc.split('.')[1]).toBe(keyIdOf(B));
        // The app that only knows A can no longer read it: a fresh session.
        await request(h.url).get('/count').set('Cookie', pair).expect(200, { visits: 1 });
      } finally {
        await app.close();
      }
    });

    it('no resurrection after logout: a slow request ending after it writes nothing back', async () => {
      const { id, pair } = await newSession(2);
      const slow = request(h.url).get('/slow?ms=300').set('Cookie', pair);
      const pending = slow.then((res) => res);
      await sleep(100);
      await request(h.url).post('/logout').set('Cookie', pair).expect(200);
      const res = await pending;
      expect(res.status).toBe(200);
      expect(await h.stored(id)).toBe(false);
      // And its end-of-request touch cannot bring it back either.
      const peek = request(h.url).get('/slow-peek?ms=300').set('Cookie', pair);
      const later = peek.then((r) => r);
      await sleep(50);
      expect(await h.stored(id)).toBe(false);
      await later;
      expect(await h.stored(id)).toBe(false);
    });

    it('the injected SessionStore reads decrypted sessions and lists, counts and revokes them', async () => {
      const { id } = await newSession(3);
      const store = h.app.get(SessionStore);
      const got = (await store.get(id)) as Record<string, unknown>;
      expect(got.visits).toBe(3);
      expect(got).not.toHaveProperty('$enc');
      expect(await store.ids?.()).toContain(id);
      expect(await store.length?.()).toBeGreaterThan(0);
      await store.destroy(id);
      expect(await h.stored(id)).toBe(false);
    });
  });
});

// The suites below run once: one Redis command per read is the store's, the startup
// validation happens before any HTTP adapter exists, and the drop-in is Express middleware.
describe('encryption at rest on Redis: one command per read', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await bootFixture('redis', [SecurityController], {
      encryption: { keys: [A] },
      cookie: { maxAge: HOUR },
      touchAfter: 1000,
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the read refreshes the clear cookie in the same EVALSHA; the ciphertext is untouched', async () => {
    const res = await request(h.url).get('/count').expect(200);
    const pair = cookiePair(res, h.name);
    const key = h.prefix + sessionIdOf(pair);
    const raw = h.raw as NonNullable<AppHarness['raw']>;
    // The first read loads the script (EVALSHA answers NOSCRIPT, then EVAL).
    await request(h.url).get('/peek').set('Cookie', pair).expect(200);
    // Age the stored expiry by a minute (the cookie is in clear).
    const record = JSON.parse((await raw.get(key)) as string) as {
      cookie: { expires: string };
      $enc: string;
    };
    const aged = new Date(Date.parse(record.cookie.expires) - 60_000).toISOString();
    await raw.set(
      key,
      JSON.stringify({ ...record, cookie: { ...record.cookie, expires: aged } }),
      'PX',
      HOUR,
    );
    const before = await commandStats([raw]);
    await request(h.url).get('/peek').set('Cookie', pair).expect(200);
    const delta = commandDelta(before, await commandStats([raw]));
    // One command sent (commandstats also counts what the script runs inside: its GET/SET).
    expect(delta.evalsha).toBe(1);
    expect(delta.eval).toBeUndefined();
    expect(delta.expire).toBeUndefined();
    const after = JSON.parse((await raw.get(key)) as string) as typeof record;
    expect(Date.parse(after.cookie.expires)).toBeGreaterThan(Date.parse(aged) + 30_000);
    expect(after.$enc).toBe(record.$enc);
  });
});

describe('encryption: startup validation', () => {
  const secret = 'encryption-validation-secret-long-enough';
  it.each<[unknown, RegExp]>([
    [{ keys: [] }, /invalid option "encryption.keys": must be a non-empty array/],
    [
      { keys: [A, randomBytes(16)] },
      /invalid option "encryption.keys\[1\]": must be 32 bytes \(got 16\)/,
    ],
    [
      { keys: ['not a key, a passphrase of 40 characters'] },
      /"encryption.keys\[0\]": must be 32 bytes/,
    ],
    [{ keys: [A], acceptPlaintext: 1 }, /"encryption.acceptPlaintext": must be a boolean/],
    ['on', /invalid option "encryption": must be an object/],
  ])('%p is refused', async (encryption, message) => {
    const err = (await bootError({ secret, encryption } as never)) as Error;
    expect(err?.name).toBe('SessionOptionsError');
    expect(err.message).toMatch(message);
  });

  it("refuses concurrency: 'merge' with a message naming both options", async () => {
    const err = (await bootError({
      secret,
      encryption: { keys: [A] },
      concurrency: 'merge',
    })) as Error;
    expect(err.message).toMatch(/"encryption": cannot be combined with concurrency: 'merge'/);
  });

  it('accepts hex and base64 keys', async () => {
    expect(
      await bootError({ secret, encryption: { keys: [A.toString('hex'), B.toString('base64')] } }),
    ).toBeUndefined();
  });
});

describe('encryption in the express drop-in (nest-session/express)', () => {
  it('seals what it stores and reads it back', async () => {
    const store = new session.MemoryStore({ pruneInterval: 0 });
    const app = express();
    app.use(
      session({
        secret: 'drop-in-secret',
        resave: false,
        saveUninitialized: false,
        store,
        encryption: { keys: [A.toString('base64')] },
      }),
    );
    app.get('/count', (req, res) => {
      const s = req.session as unknown as { visits?: number };
      s.visits = (s.visits ?? 0) + 1;
      res.json({ visits: s.visits });
    });
    const agent = request.agent(app);
    await agent.get('/count').expect(200, { visits: 1 });
    await agent.get('/count').expect(200, { visits: 2 });
    const values = Object.values(store.sessions);
    expect(values).toHaveLength(1);
    expect(values[0]).not.toMatch(/visits/);
    expect(JSON.parse(values[0] as string)).toHaveProperty('$enc');
    store.close();
  });

  it('refuses a bad key and merge at creation', () => {
    expect(() => session({ secret: 's', encryption: { keys: ['short'] } })).toThrow(
      /encryption.keys\[0\] must be 32 bytes/,
    );
    expect(() => session({ secret: 's', encryption: { keys: [A] }, concurrency: 'merge' })).toThrow(
      /encryption option cannot be combined with concurrency: "merge"/,
    );
  });
});
