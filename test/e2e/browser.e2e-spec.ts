import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { AppModule } from '../../sample/app.module';
import { AppConfig } from '../../sample/config/app-config';
import { SESSION_COOKIE_NAME } from '../../sample/session/session-data';
import { launchChromium, newContext, submit, textOf } from '../support/browser';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';

/**
 * The sample's HTML UI (sample/web) in a real browser: headless Chromium (the one inside the
 * `@sparticuz/chromium` devDependency, driven by playwright-core) against the sample app listening on a real port. Checks what only
 * a browser shows: the cookie as it stores it, forms, redirects, reloads, separate cookie jars.
 */
jest.setTimeout(30_000);

const EVIL_USER_AGENT = 'Mozilla/5.0 <img src=x id=injected onerror="alert(1)"> & "quotes"';

describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
  describe('sample HTML UI in headless Chromium', () => {
    let app: INestApplication;
    let baseURL: string;
    let browser: Browser;
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
        .overrideProvider(AppConfig)
        .useValue(AppConfig.fromEnv({ SESSION_SECRET: randomBytes(32).toString('hex') }))
        .compile();
      app = await initApp(createAppOn(moduleRef, adapter));
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      baseURL = `http://127.0.0.1:${port}`;
      browser = await launchChromium();
    });

    afterAll(async () => {
      for (const context of contexts) await context.close();
      await browser?.close();
      await app?.close();
    });

    async function open(userAgent?: string): Promise<{ context: BrowserContext; page: Page }> {
      const context = await newContext(browser, baseURL, { userAgent });
      contexts.push(context);
      return { context, page: await context.newPage() };
    }

    async function sessionCookie(context: BrowserContext): Promise<Cookie | undefined> {
      return (await context.cookies()).find((c) => c.name === SESSION_COOKIE_NAME);
    }

    async function signIn(page: Page, username: string, password: string): Promise<URL> {
      await page.goto('/web/sign-in');
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(password);
      return submit(page, 'Sign in');
    }

    // Shared by the steps below, in order: A is the main browser, B a second one of the same user,
    // and Bob another user's browser.
    let a: { context: BrowserContext; page: Page };
    let b: { context: BrowserContext; page: Page };
    let bob: { context: BrowserContext; page: Page };
    let signedInCookie: Cookie;

    it('an anonymous visit to the home page stores no session and sets no cookie', async () => {
      a = await open();
      const res = await a.page.goto('/');
      expect(res?.status()).toBe(200);
      expect(new URL(a.page.url()).pathname).toBe('/web');
      expect(res?.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(await textOf(a.page, '#status')).toMatch(/not signed in/);
      expect(await a.context.cookies()).toEqual([]);
    });

    it('refuses a wrong password on the form (back to the form, not signed in)', async () => {
      const url = await signIn(a.page, 'alice', 'builder');
      expect(url.pathname).toBe('/web/sign-in');
      expect(url.search).toBe(''); // the error came as a flash message, not in the URL
      expect(await textOf(a.page, '[role=status]')).toBe('Wrong username or password.');
      // Shown once: a reload of the form does not show it again.
      await a.page.reload();
      expect(await a.page.$('[role=status]')).toBeNull();
      await a.page.goto('/web');
      expect(await textOf(a.page, '#status')).toMatch(/not signed in/);
    });

    it('signs in through the form; the browser stores an HttpOnly SameSite=Lax cookie', async () => {
      await a.page.goto('/web/sign-in');
      // The form's token lives in an anonymous session: the browser has its cookie already.
      const anonymous = await sessionCookie(a.context);
      expect(anonymous).toBeDefined();

      const url = await signIn(a.page, 'alice', 'wonderland');
      expect(url.pathname).toBe('/web');
      expect(await textOf(a.page, '#user')).toBe('Alice Liddell');

      const cookies = await a.context.cookies();
      expect(cookies.map((c) => c.name)).toEqual([SESSION_COOKIE_NAME]);
      const cookie = cookies[0] as Cookie;
      expect(cookie).toMatchObject({
        name: 'sample.sid',
        domain: '127.0.0.1',
        path: '/',
        httpOnly: true,
        secure: false, // plain http: no Secure (the sample sets it in production)
        sameSite: 'Lax',
      });
      // Persistent (maxAge 8 h), not a browser-session cookie.
      expect(cookie.expires * 1000).toBeGreaterThan(Date.now() + 7 * 3600_000);
      // A new session id on sign-in (no fixation), and invisible to page scripts.
      expect(cookie.value).not.toBe(anonymous?.value);
      expect(await a.page.evaluate<string>('document.cookie')).not.toContain(SESSION_COOKIE_NAME);
      signedInCookie = cookie;
    });

    it('keeps the session across reloads, and counts visits across them', async () => {
      await a.page.reload();
      expect(await textOf(a.page, '#user')).toBe('Alice Liddell');

      await a.page.goto('/web/counter');
      expect(await textOf(a.page, '#visits')).toBe('1');
      await a.page.reload();
      expect(await textOf(a.page, '#visits')).toBe('2');
      await a.page.reload();
      expect(await textOf(a.page, '#visits')).toBe('3');
      await a.page.goto('/web');
      expect(await textOf(a.page, '#visits')).toBe('3');
      expect((await sessionCookie(a.context))?.value).toBe(signedInCookie.value);
    });

    it('adds to and removes from the cart through forms', async () => {
      const { page } = a;
      await page.goto('/web/cart');
      expect(await textOf(page, '#empty')).toBe('Your cart is empty.');

      await page.getByLabel('Quantity of Mad Hatter tea').fill('2');
      expect((await submit(page, 'Add Mad Hatter tea')).pathname).toBe('/web/cart');
      await submit(page, 'Add Claw hammer');
      await submit(page, 'Add Mad Hatter tea');
      expect(await textOf(page, 'tr[data-product=tea] .quantity')).toBe('3');
      expect(await textOf(page, 'tr[data-product=hammer] .quantity')).toBe('1');
      expect(await textOf(page, '#total')).toBe('€26.49');

      await submit(page, 'Remove Mad Hatter tea');
      await page.reload();
      expect(await page.$('tr[data-product=tea]')).toBeNull();
      expect(await textOf(page, '#total')).toBe('€12.99');
      await page.goto('/web');
      expect(await textOf(page, '#cart-items')).toBe('1');
    });

    it('refuses a form POST without the session token (403), changing nothing', async () => {
      // Same cookie jar as the page (a same-site request carrying the session), but no _csrf field.
      const res = await a.context.request.post('/web/cart/add', {
        form: { productId: 'cake' },
        maxRedirects: 0,
      });
      expect(res.status()).toBe(403);
      expect(await res.text()).toContain('The form has expired');
      const wrong = await a.context.request.post('/web/cart/add', {
        form: { productId: 'cake', _csrf: 'x'.repeat(43) },
        maxRedirects: 0,
      });
      expect(wrong.status()).toBe(403);
      await a.page.goto('/web');
      expect(await textOf(a.page, '#cart-items')).toBe('1');
    });

    it("a second browser context does not see the first's session", async () => {
      // B's User-Agent is markup: the devices page must show it as text.
      b = await open(EVIL_USER_AGENT);
      await b.page.goto('/web');
      expect(await textOf(b.page, '#status')).toMatch(/not signed in/);
      expect(await b.context.cookies()).toEqual([]);
      await b.page.goto('/web/cart');
      expect(await textOf(b.page, '#empty')).toBe('Your cart is empty.');
      // Signed-out visitors are sent to the sign-in form.
      await b.page.goto('/web/devices');
      expect(new URL(b.page.url()).pathname).toBe('/web/sign-in');
      // A still has its own session.
      await a.page.reload();
      expect(await textOf(a.page, '#cart-items')).toBe('1');
    });

    it('lists the signed-in user’s sessions on the devices page', async () => {
      expect((await signIn(b.page, 'alice', 'wonderland')).pathname).toBe('/web');
      expect(await textOf(b.page, '#user')).toBe('Alice Liddell');
      expect((await sessionCookie(b.context))?.value).not.toBe(signedInCookie.value);
      bob = await open();
      await signIn(bob.page, 'bob', 'builder');
      expect(await textOf(bob.page, '#user')).toBe('Bob the Builder');

      await a.page.goto('/web/devices');
      expect(await textOf(a.page, '#device-count')).toBe('2'); // A and B; not Bob's
      const rows = a.page.locator('#devices tbody tr');
      expect(await rows.count()).toBe(2);
      expect(await a.page.locator('#devices tr.current').count()).toBe(1);
      expect(await textOf(a.page, '#devices tr.current')).toContain('This device');
      const userAgent = await a.page.evaluate<string>('navigator.userAgent');
      expect(await textOf(a.page, '#devices tr.current')).toContain(userAgent);
      // B's row shows its User-Agent as text: escaped, no element injected.
      expect(await textOf(a.page, '#devices tr.device:not(.current)')).toContain(EVIL_USER_AGENT);
      expect(await a.page.$('#injected')).toBeNull();
    });

    it('"sign out everywhere else" from A signs B out, keeps A and other users', async () => {
      await a.page.goto('/web/devices');
      const url = await submit(a.page, 'Sign out everywhere else');
      expect(url.pathname).toBe('/web/devices');
      expect(await textOf(a.page, '[role=status]')).toBe('Signed out 1 other session.');
      expect(await textOf(a.page, '#device-count')).toBe('1');

      await b.page.goto('/web');
      expect(await textOf(b.page, '#status')).toMatch(/not signed in/);
      await b.page.goto('/web/devices');
      expect(new URL(b.page.url()).pathname).toBe('/web/sign-in');

      await a.page.goto('/web');
      expect(await textOf(a.page, '#user')).toBe('Alice Liddell');
      await bob.page.reload();
      expect(await textOf(bob.page, '#user')).toBe('Bob the Builder');
    });

    it('signs out: the browser drops the cookie, and the old cookie is dead', async () => {
      await a.page.goto('/web');
      const url = await submit(a.page, 'Sign out');
      expect(url.pathname).toBe('/web');
      expect(await textOf(a.page, '#status')).toMatch(/not signed in/);
      // The notice came through a flash message; reading it left no session, so no cookie.
      expect(await textOf(a.page, '[role=status]')).toBe('You are signed out.');
      expect(await sessionCookie(a.context)).toBeUndefined();
      await a.page.reload();
      expect(await a.page.$('[role=status]')).toBeNull();
      expect(await sessionCookie(a.context)).toBeUndefined();

      // Putting the signed-in cookie back does not bring the session back.
      await a.context.addCookies([signedInCookie]);
      await a.page.goto('/web');
      expect(await textOf(a.page, '#status')).toMatch(/not signed in/);
      expect(await textOf(a.page, '#cart-items')).toBe('0');
    });
  });
});
