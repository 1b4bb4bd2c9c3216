/**
 * Cookie attributes under attack: configurations browsers would drop are refused at startup, the
 * `__Host-` rules hold, and a forged `X-Forwarded-Proto` never makes a plain request secure
 * (`secure: 'auto'`, `secure: true`, `proxy: n` hop counting). Real HTTP, on the MemoryStore and
 * on a private Redis.
 */
import request from 'supertest';
import { setCookieFor } from './fixtures/cookies';
import { SessionOptionsError, type SessionModuleOptions } from '../../lib';
import { type AdapterSettings, HTTP_ADAPTERS } from '../support/http-adapters';
import { SecurityController } from '../support/security-controllers';
import {
  type AppHarness,
  STORE_KINDS,
  bootError,
  bootFixture,
  randomSecret,
} from '../support/security-harness';

// Refused when the module is compiled, before any HTTP adapter exists: the same on both.
describe('cookie attributes refused at startup', () => {
  const secret = randomSecret();

  it.each<[string, Partial<SessionModuleOptions>, RegExp]>([
    ["sameSite 'none' without secure", { cookie: { sameSite: 'none' } }, /sameSite/],
    ["sameSite 'None' without secure", { cookie: { sameSite: 'None' as 'none' } }, /sameSite/],
    [
      "sameSite 'none' with secure: false",
      { cookie: { sameSite: 'none', secure: false } },
      /sameSite/,
    ],
    ['__Host- without secure', { name: '__Host-sid' }, /secure/],
    ["__Host- with secure 'auto'", { name: '__Host-sid', cookie: { secure: 'auto' } }, /secure/],
    [
      '__Host- with a domain',
      { name: '__Host-sid', cookie: { secure: true, domain: 'example.com' } },
      /domain/,
    ],
    [
      '__Host- with another path',
      { name: '__Host-sid', cookie: { secure: true, path: '/app' } },
      /path/,
    ],
    ['__Secure- without secure', { name: '__Secure-sid' }, /secure/],
  ])('%s', async (_l, options, message) => {
    const err = await bootError({ secret, ...options });
    expect(err).toBeInstanceOf(SessionOptionsError);
    expect(String((err as Error).message)).toMatch(message);
  });

  it.each<[string, Partial<SessionModuleOptions>]>([
    ["sameSite 'none' with secure: true", { cookie: { sameSite: 'none', secure: true } }],
    ["sameSite 'none' with secure: 'auto'", { cookie: { sameSite: 'none', secure: 'auto' } }],
    ['a valid __Host- cookie', { name: '__Host-sid', cookie: { secure: true, path: '/' } }],
  ])('%s boots', async (_l, options) => {
    expect(await bootError({ secret, ...options })).toBeUndefined();
  });
});

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe.each(STORE_KINDS)('Secure and forwarded protocols on %s', (kind) => {
    const apps: AppHarness[] = [];
    afterAll(async () => {
      for (const app of apps) await app.close();
    });
    async function boot(
      options: Partial<SessionModuleOptions>,
      settings: AdapterSettings = {},
    ): Promise<AppHarness> {
      const h = await bootFixture(kind, [SecurityController], options, {}, adapter, settings);
      apps.push(h);
      return h;
    }

    /** GET /count with the given X-Forwarded-Proto; returns the Set-Cookie line and the record delta. */
    async function visit(h: AppHarness, forwarded?: string) {
      const before = await h.count();
      const req = request(h.url).get('/count');
      if (forwarded !== undefined) req.set('X-Forwarded-Proto', forwarded);
      const res = await req;
      expect(res.status).toBe(200);
      return { line: setCookieFor(res, h.name), created: (await h.count()) - before };
    }

    it("secure: 'auto' with a forged X-Forwarded-Proto from an untrusted peer: not Secure", async () => {
      const h = await boot({ cookie: { secure: 'auto' } });
      for (const forged of ['https', 'HTTPS', 'https, https', ' https']) {
        const { line, created } = await visit(h, forged);
        expect(line).toBeDefined();
        expect(line).not.toMatch(/; Secure/i);
        expect(created).toBe(1);
      }
    });

    it('secure: true with a forged X-Forwarded-Proto from an untrusted peer: no cookie, no record', async () => {
      const h = await boot({ cookie: { secure: true } });
      for (const forged of [undefined, 'https', 'https, https']) {
        const { line, created } = await visit(h, forged);
        expect(line).toBeUndefined();
        expect(created).toBe(0);
      }
    });

    it("the framework's trust proxy (no proxy option): X-Forwarded-Proto https makes 'auto' Secure", async () => {
      // Express: `app.set('trust proxy', 1)`; Fastify: `new FastifyAdapter({ trustProxy: 1 })`.
      const h = await boot({ cookie: { secure: 'auto' } }, { fastify: { trustProxy: 1 } });
      if (adapter === 'express') {
        (h.app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set(
          'trust proxy',
          1,
        );
      }
      expect((await visit(h, 'https')).line).toMatch(/; Secure/);
      expect((await visit(h, 'http')).line).not.toMatch(/; Secure/);
    });

    it("proxy: 1 and X-Forwarded-Proto 'https, http' (client-forged https): not secure", async () => {
      const auto = await boot({ proxy: 1, cookie: { secure: 'auto' } });
      const forged = await visit(auto, 'https, http');
      expect(forged.line).toBeDefined();
      expect(forged.line).not.toMatch(/; Secure/i);
      expect((await visit(auto, 'http, https')).line).toMatch(/; Secure/);
      expect((await visit(auto, 'https')).line).toMatch(/; Secure/);

      const strict = await boot({ proxy: 1, cookie: { secure: true } });
      const refused = await visit(strict, 'https, http');
      expect(refused.line).toBeUndefined();
      expect(refused.created).toBe(0);
      const allowed = await visit(strict, 'http, https');
      expect(allowed.line).toMatch(/; Secure/);
      expect(allowed.created).toBe(1);
    });

    it('proxy: 2 reads the second value from the right', async () => {
      const h = await boot({ proxy: 2, cookie: { secure: 'auto' } });
      expect((await visit(h, 'http, https, http')).line).toMatch(/; Secure/);
      expect((await visit(h, 'https, http, https')).line).not.toMatch(/; Secure/);
    });

    it("proxy: true reads the first X-Forwarded-Proto value ('https, http' is secure)", async () => {
      const h = await boot({ proxy: true, cookie: { secure: 'auto' } });
      expect((await visit(h, 'https, http')).line).toMatch(/; Secure/);
      expect((await visit(h, 'http, https')).line).not.toMatch(/; Secure/i);
    });

    it('proxy: false ignores X-Forwarded-Proto entirely', async () => {
      const h = await boot({ proxy: false, cookie: { secure: true } });
      const { line, created } = await visit(h, 'https');
      expect(line).toBeUndefined();
      expect(created).toBe(0);
    });

    it('__Host- cookie: Secure, Path=/, no Domain over HTTPS; nothing at all over plain HTTP', async () => {
      const h = await boot({ name: '__Host-sid', proxy: 1, cookie: { secure: true } });
      const secure = await visit(h, 'https');
      expect(secure.line).toMatch(/^__Host-sid=s%3A/);
      expect(secure.line).toMatch(/; Path=\/(;|$)/);
      expect(secure.line).toMatch(/; Secure/);
      expect(secure.line).not.toMatch(/Domain=/i);
      expect(secure.created).toBe(1);
      const plain = await visit(h);
      expect(plain.line).toBeUndefined();
      expect(plain.created).toBe(0);
    });
  });
});
