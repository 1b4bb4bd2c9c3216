import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Where the browser comes from: the headless Chromium shipped inside the `@sparticuz/chromium`
 * devDependency (brotli-compressed in the package, unpacked once per install into
 * `node_modules/.cache/`), so `npm ci && npm test` needs no apt step and no browser download.
 * `CHROMIUM_PATH=/usr/bin/chromium` (or any Chromium) uses that binary instead.
 */
export const CHROMIUM_PATH_ENV = 'CHROMIUM_PATH';

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
 * Unpacks the Chromium of `@sparticuz/chromium` (once per installed version) and returns its path.
 *
 * The package is ESM-only, so it runs in a child `node` (Jest's CommonJS runtime cannot import
 * it). It unpacks into `os.tmpdir()` and reuses whatever `chromium` it finds there, so the child
 * gets a fresh private TMPDIR, which is then renamed into place: an interrupted unpack never
 * leaves a half-written browser behind, and another version's `/tmp/chromium` is never picked up.
 */
export function bundledChromium(): string {
  let entry: string;
  try {
    entry = require.resolve('@sparticuz/chromium');
  } catch {
    throw new Error(
      'The browser e2e test needs the `@sparticuz/chromium` devDependency (Chromium inside an ' +
        'npm package): run `npm ci`. To use a Chromium of your own, set CHROMIUM_PATH to it.',
    );
  }
  // The package's own package.json is not exported: walk up from its entry point.
  let pkgDir = dirname(entry);
  let manifest: { name?: string; version?: string } = {};
  for (; pkgDir !== dirname(pkgDir); pkgDir = dirname(pkgDir)) {
    const file = join(pkgDir, 'package.json');
    if (!existsSync(file)) continue;
    manifest = JSON.parse(readFileSync(file, 'utf8'));
    if (manifest.name === '@sparticuz/chromium') break;
  }
  const version = manifest.version;
  if (manifest.name !== '@sparticuz/chromium' || !version) {
    throw new Error(`@sparticuz/chromium: no package.json above ${entry}`);
  }
  const root = join(__dirname, '..', '..', 'node_modules', '.cache', 'nest-session-chromium');
  const target = join(root, version);
  const executable = join(target, 'chromium');
  if (existsSync(executable)) return executable;

  mkdirSync(root, { recursive: true });
  const staging = mkdtempSync(join(root, `.unpack-${version}-`));
  try {
    const script =
      "const { default: Chromium } = await import('@sparticuz/chromium');" +
      'Chromium.setGraphicsMode = false;' + // no WebGL: skip unpacking SwiftShader
      'process.stdout.write(await Chromium.executablePath());';
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: pkgDir,
      env: { ...process.env, TMPDIR: staging },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (run.status !== 0 || run.stdout !== join(staging, 'chromium')) {
      throw new Error(
        `Unpacking @sparticuz/chromium ${version} failed (exit ${run.status}, ${String(run.error ?? '')}):\n` +
          `${run.stdout}\n${run.stderr}`,
      );
    }
    try {
      renameSync(staging, target);
    } catch (err) {
      // Another run unpacked the same version first: use its copy.
      if (!existsSync(executable)) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return executable;
}

/** The Chromium binary the browser tests launch: `CHROMIUM_PATH`, else the bundled one. */
export function chromiumPath(): string {
  const fromEnv = process.env[CHROMIUM_PATH_ENV];
  if (!fromEnv) return bundledChromium();
  try {
    accessSync(fromEnv, constants.X_OK);
  } catch {
    throw new Error(
      `CHROMIUM_PATH=${fromEnv} is not an executable file. Unset it to use the Chromium of the ` +
        '`@sparticuz/chromium` devDependency (nothing to install).',
    );
  }
  return fromEnv;
}

/**
 * Launches Chromium headless with a fresh profile: Playwright's `launch()` gives each browser a
 * new temporary `--user-data-dir`, deleted on close (contexts are incognito-like on top of it).
 * Fails, never skips, when no Chromium can be found.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
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
