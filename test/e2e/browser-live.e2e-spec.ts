/**
 * The sample's live channel in a real browser (headless Chromium, see test/support/browser.ts):
 * a signed-in page loads socket.io's client from the app, connects with the page's cookie and
 * shows who it is signed in as; "sign out everywhere else" on another device of the same user
 * disconnects it and the page says so, without a reload; a sign-out in another tab of the same
 * browser too. On Express and Fastify.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AppModule } from '../../sample/app.module';
import { AppConfig } from '../../sample/config/app-config';
import { useLiveSessions } from '../../sample/live/live.module';
import { launchChromium, newContext, submit, textOf } from '../support/browser';
import { eventually } from '../support/eventually';
import { HTTP_ADAPTERS, createAppOn, initApp } from '../support/http-adapters';

jest.setTimeout(30_000);

describe.each(HTTP_ADAPTERS)('sample live channel in headless Chromium on %s', (adapter) => {
  let app: INestApplication;
  let baseURL: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(AppConfig)
      .useValue(AppConfig.fromEnv({ SESSION_SECRET: randomBytes(32).toString('hex') }))
      .compile();
    app = createAppOn(moduleRef, adapter);
    const live = useLiveSessions(app);
    await initApp(app);
    await app.listen(0, '127.0.0.1');
    await live.ready();
    baseURL = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await app?.close();
  });

  async function signedIn(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await newContext(browser, baseURL);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto('/web/sign-in');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('wonderland');
    await submit(page, 'Sign in');
    return { context, page };
  }

  const liveText = (page: Page) => textOf(page, '#live-status');
  const until = (page: Page, text: string) =>
    eventually(async () => (await liveText(page)) === text, 3000);

  it('a signed-in page connects with its session and shows who it is', async () => {
    const { page } = await signedIn();
    expect(await until(page, 'Live: connected as alice')).toBe(true);
  });

  it('"sign out everywhere else" on another device signs the page out live', async () => {
    const laptop = await signedIn();
    expect(await until(laptop.page, 'Live: connected as alice')).toBe(true);
    const phone = await signedIn();
    await phone.page.goto('/web/devices');
    await submit(phone.page, 'Sign out everywhere else');
    expect(await until(laptop.page, 'You were signed out (on another tab or device).')).toBe(true);
    // The phone's own page (its session kept) stays connected.
    expect(await until(phone.page, 'Live: connected as alice')).toBe(true);
  });

  it('a sign-out in another tab signs the first tab out live', async () => {
    const { context, page } = await signedIn();
    expect(await until(page, 'Live: connected as alice')).toBe(true);
    const tab = await context.newPage();
    await tab.goto('/web');
    await submit(tab, 'Sign out');
    expect(await until(page, 'You were signed out (on another tab or device).')).toBe(true);
  });
});
