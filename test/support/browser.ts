import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** The system Chromium (Debian's `chromium` package). Playwright never downloads a browser here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for headless runs in CI containers: no GPU, no QUIC, and none of the background traffic
 * (component updates, sync, field trials) a fresh profile would otherwise start.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Containers often have a 64 MB /dev/shm; Debian's wrapper adds this only when it can tell.
  '--disable-dev-shm-usage',
];

/**
 * Launches the system Chromium headless with a fresh profile: Playwright's `launch()` gives each
 * browser a new temporary `--user-data-dir`, deleted on close (contexts are incognito-like on top
 * of it). Fails, never skips, when Chromium is not installed.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the browser e2e test drives the system ` +
        `Chromium (Playwright downloads none). Install it with ` +
        '`apt-get install -y --no-install-recommends chromium` (.ci/run does this when it is missing).',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: 20_000,
  });
}

/** A new isolated context (its own cookie jar) with short default timeouts. */
export async function newContext(
  browser: Browser,
  baseURL: string,
  options: { userAgent?: string } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({ ...options, baseURL });
  context.setDefaultTimeout(5_000);
  context.setDefaultNavigationTimeout(5_000);
  return context;
}

/**
 * Clicks a form's submit button and waits until the page the form leads to (after the server's
 * 303 redirect) has loaded; resolves its URL.
 */
export async function submit(page: Page, button: string): Promise<URL> {
  await Promise.all([
    page.waitForEvent('load'),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  return new URL(page.url());
}

/** The text of the element matching `selector` (trimmed), or `null` when there is none. */
export async function textOf(page: Page, selector: string): Promise<string | null> {
  const element = await page.$(selector);
  return element ? ((await element.textContent()) ?? '').trim() : null;
}
