/**
 * Cross-site request forgery against the sample's HTML forms, in a real browser (headless
 * Chromium, test/support/browser.ts). A signed-in visitor opens an "attacker" page served by a
 * second server; it auto-submits a form to the sample's `POST /web/cart/add`:
 *
 * - from `http://127.0.0.1:<other port>`: another origin of the same site, so the browser sends
 *   the `SameSite=Lax` session cookie along. Only the CSRF token stops it (no token, or the
 *   attacker's own valid token of another session);
 * - from `http://localhost:<other port>`: another site; the browser leaves the cookie off.
 *
 * Each time: 403, and the visitor's session (cookie, stored data) unchanged. The visitor's own
 * form posts keep working.
 */
import 'reflect-metadata';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { SESSION_COOKIE_NAME } from '../../sample/session/session-data';
import { launchChromium, newContext, submit, textOf } from '../support/browser';
import { HTTP_ADAPTERS } from '../support/http-adapters';
import { type AppHarness, bootSample } from '../support/security-harness';
import { sessionIdOf } from './fixtures/cookies';

jest.setTimeout(30_000);

/** The attacker's page: a form that posts itself to `action` as soon as it loads. */
function attackPage(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('');
  return (
    '<!doctype html><html><body onload="document.forms[0].submit()">' +
    `<h1>You won a prize!</h1><form method="post" action="${action}">${inputs}</form>` +
    '</body></html>'
  );
}

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe('cross-site form posts against the sample, in headless Chromium', () => {
    let sample: AppHarness;
    let appURL: string;
    let attacker: Server;
    let attackerPort: number;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    /** What reached `POST /web/cart/add`, as the sample's HTTP server saw it. */
    const posts: IncomingHttpHeaders[] = [];
    /** The page the attacker serves next. */
    let nextAttack = '';

    beforeAll(async () => {
      sample = await bootSample('memory', adapter);
      (sample.app.getHttpServer() as Server).prependListener('request', (req) => {
        if (req.method === 'POST' && req.url === '/web/cart/add') posts.push(req.headers);
      });
      appURL = sample.url;

      attacker = createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(nextAttack);
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      attackerPort = (attacker.address() as AddressInfo).port;

      browser = await launchChromium();
      context = await newContext(browser, appURL);
      page = await context.newPage();
    });

    afterAll(async () => {
      await context?.close();
      await browser?.close();
      await new Promise((resolve) => attacker?.close(resolve));
      await sample?.close();
    });

    async function sessionCookie(): Promise<Cookie | undefined> {
      return (await context.cookies(appURL)).find((c) => c.name === SESSION_COOKIE_NAME);
    }

    /** The visitor's stored session, without its cookie (whose expiry a touch may move). */
    async function storedData(): Promise<Record<string, unknown>> {
      const cookie = await sessionCookie();
      const id = sessionIdOf(`${SESSION_COOKIE_NAME}=${cookie?.value ?? ''}`);
      const record = await sample.store.get(id);
      const { cookie: _cookie, ...data } = (record ?? {}) as Record<string, unknown>;
      return data;
    }

    /** Opens the attacker's page at `origin`; resolves the answer to the form it posts. */
    async function attack(origin: string, fields: Record<string, string>) {
      nextAttack = attackPage(`${appURL}/web/cart/add`, fields);
      const seen = posts.length;
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${appURL}/web/cart/add`),
        page.goto(`${origin}/prize`),
      ]);
      // The form's navigation has committed and its page (the 403's) has loaded.
      await page.waitForURL(`${appURL}/web/cart/add`, { waitUntil: 'load' });
      expect(posts).toHaveLength(seen + 1);
      return { status: answer.status(), headers: posts[seen] as IncomingHttpHeaders };
    }

    let cookieBefore: Cookie;
    let dataBefore: Record<string, unknown>;

    it('the visitor signs in and adds to the cart through the form (the legitimate post works)', async () => {
      await page.goto('/web/sign-in');
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('wonderland');
      expect((await submit(page, 'Sign in')).pathname).toBe('/web');
      await page.goto('/web/cart');
      expect((await submit(page, 'Add Mad Hatter tea')).pathname).toBe('/web/cart');
      expect(await textOf(page, 'tr[data-product=tea] .quantity')).toBe('1');
      cookieBefore = (await sessionCookie()) as Cookie;
      expect(cookieBefore).toBeDefined();
      dataBefore = await storedData();
      expect(dataBefore).toMatchObject({ shoppingCart: [{ productId: 'tea', quantity: 1 }] });
      expect(dataBefore).toHaveProperty('csrfSecret');
    });

    it('same site, other origin (another port): the cookie goes along, the missing token is refused', async () => {
      const { status, headers } = await attack(`http://127.0.0.1:${attackerPort}`, {
        productId: 'hammer',
        quantity: '5',
      });
      expect(status).toBe(403);
      expect(headers.origin).toBe(`http://127.0.0.1:${attackerPort}`);
      expect(headers['sec-fetch-site']).toBe('same-site');
      // SameSite=Lax did not stop this one: the browser sent the visitor's session.
      expect(headers.cookie).toContain(`${SESSION_COOKIE_NAME}=`);
      expect(await textOf(page, 'body')).toContain('The form has expired');
      expect(await sessionCookie()).toEqual(cookieBefore);
      expect(await storedData()).toEqual(dataBefore);
    });

    it("same site, with the attacker's own valid token (of another session): refused", async () => {
      // The attacker loads the form themselves (no cookie of the visitor): a genuine token of
      // the attacker's own session.
      const form = await fetch(`${appURL}/web/sign-in`);
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] as string;
      expect(token).toMatch(/^[A-Za-z0-9_-]{64}$/);
      const { status, headers } = await attack(`http://127.0.0.1:${attackerPort}`, {
        productId: 'hammer',
        quantity: '5',
        _csrf: token,
      });
      expect(status).toBe(403);
      expect(headers.cookie).toContain(`${SESSION_COOKIE_NAME}=`);
      expect(await sessionCookie()).toEqual(cookieBefore);
      expect(await storedData()).toEqual(dataBefore);
    });

    it('another site (localhost vs 127.0.0.1): no cookie is sent, and the post is refused', async () => {
      const { status, headers } = await attack(`http://localhost:${attackerPort}`, {
        productId: 'hammer',
        quantity: '5',
      });
      expect(status).toBe(403);
      expect(headers['sec-fetch-site']).toBe('cross-site');
      expect(headers.cookie ?? '').not.toContain(`${SESSION_COOKIE_NAME}=`);
      // The refused post set no cookie: the visitor's session is the one it was.
      expect(await sessionCookie()).toEqual(cookieBefore);
      expect(await storedData()).toEqual(dataBefore);
    });

    it("the visitor's own form posts still work afterwards, with the same session", async () => {
      await page.goto(`${appURL}/web/cart`);
      expect(await textOf(page, 'tr[data-product=hammer] .quantity')).toBeNull();
      await submit(page, 'Add Claw hammer');
      expect(await textOf(page, 'tr[data-product=hammer] .quantity')).toBe('1');
      expect(await textOf(page, 'tr[data-product=tea] .quantity')).toBe('1');
      expect((await sessionCookie())?.value).toBe(cookieBefore.value);
    });
  });
});
