/**
 * A cloud for browser tests: three KV nodes, frontends and the dispatcher as real processes,
 * and Debian's chromium driven by playwright-core with a fresh profile. Users reach the app the
 * way they would: through the dispatcher's address.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT, runPenncloud, startRole, tempDir, writeTestConfig, type RoleProcess } from '../support/roles.js';

/** Where the screenshots of each screen go, for a person to look at. */
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'screenshots');
/** The chromium Debian installs; playwright's own browsers are never downloaded. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
/** How long a test waits for something to appear on the page: generous for a loaded 2-core machine. */
export const UI_TIMEOUT_MS = 20_000;

const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface BrowserCloud {
  dispatcherUrl: string;
  frontends: RoleProcess[];
  /** Frontend base URLs in id order. */
  frontendUrls: string[];
  kvNodes: RoleProcess[];
  dispatcher: RoleProcess;
  /** The configuration file and data directory, for starting more roles (smtp, pop3). */
  conf: string;
  dataDir: string;
}

export interface BrowserCloudOptions {
  frontends?: number;
  quotaBytes?: number;
  /**
   * Administrators, made with `penncloud admin add` (password "correct horse") once the store
   * is up; the cloud then runs a coordinator too, so the admin console has node states to show.
   */
  admins?: string[];
  /** Conf `https`: the frontends and the dispatcher serve HTTPS with these files. */
  https?: { keyFile: string; certFile: string };
}

/** Starts the store, `frontends` frontends and the dispatcher; resolves when all are ready. */
export async function startBrowserCloud(options: BrowserCloudOptions = {}): Promise<BrowserCloud> {
  const dir = tempDir('penncloud-browser-');
  const dataDir = join(dir, 'data');
  const conf = await writeTestConfig(dir, {
    frontends: options.frontends ?? 2,
    patch: (c) => {
      c.kv.groups = [[0], [1], [2]];
      c.kv.tablets = [{ start: '', group: 0 }, { start: 'i', group: 1 }, { start: 'r', group: 2 }];
      c.kv.requestTimeoutMs = 30_000;
      // Quick heartbeats, so a killed frontend leaves the dispatcher's list within a second or two.
      c.dispatcher.heartbeatIntervalMs = 250;
      c.dispatcher.frontendTimeoutMs = 1_500;
      c.drive = { chunkBytes: 256 * 1024, quotaBytes: options.quotaBytes ?? 256 * 1024 * 1024 };
      if (options.admins !== undefined) c.admins = options.admins;
      if (options.https !== undefined) c.https = options.https;
    },
  });
  const common = ['--conf', conf, '--data', dataDir];
  if (options.admins !== undefined) await startRole(['coordinator', ...common]);
  const kvNodes = await Promise.all([0, 1, 2].map((id) => startRole(['kvnode', '--id', String(id), ...common])));
  const dispatcher = await startRole(['dispatcher', ...common]);
  const frontends = await Promise.all(Array.from({ length: options.frontends ?? 2 }, (_v, i) => startRole(['frontend', '--id', String(i + 1), ...common])));
  for (const name of options.admins ?? []) {
    const added = await runPenncloud(['admin', 'add', name, ...common], 'correct horse\n');
    if (added.code !== 0) throw new Error(`penncloud admin add ${name}: ${added.stderr}`);
  }
  return {
    dispatcherUrl: dispatcher.ready.split(/\s+/)[0]!.replace(/\/$/, ''),
    frontends,
    frontendUrls: frontends.map((f) => f.ready.split(/\s+/)[0]!.replace(/\/$/, '')),
    kvNodes,
    dispatcher,
    conf,
    dataDir,
  };
}

/** A browser with a fresh profile; close it in afterEach. */
export async function openBrowser(
  viewport = { width: 1280, height: 820 }, options: { ignoreHTTPSErrors?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(tempDir('penncloud-chromium-'), {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    acceptDownloads: true,
    viewport,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
  });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  const page = context.pages()[0] ?? await context.newPage();
  return { context, page };
}

/** Saves a full-page screenshot as test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * A pattern matching exactly `text`, for locator filters. (Waits go through locators: under
 * the app's Content-Security-Policy, page.waitForFunction is eval and is refused.)
 */
export function exactText(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

/** Pause between looks while waiting for what no locator sees (the tab title, an image's pixels). */
const LOOK_POLL_MS = 50;

/**
 * Looks at the page with `look` until `done` holds of what it sees, up to UI_TIMEOUT_MS; the
 * last thing seen. For what locators cannot wait on: under the app's Content-Security-Policy,
 * page.waitForFunction is eval and is refused.
 */
export async function waitUntil<T>(page: Page, look: () => Promise<T>, done: (seen: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let seen = await look();
  while (!done(seen)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(seen)} after ${UI_TIMEOUT_MS} ms`);
    await page.waitForTimeout(LOOK_POLL_MS);
    seen = await look();
  }
  return seen;
}

/** Waits, up to UI_TIMEOUT_MS, until the tab title is `title`. */
export async function waitForTitle(page: Page, title: string): Promise<void> {
  await waitUntil(page, () => page.title(), (seen) => seen === title, `the tab title is not "${title}"`);
}

/** Waits until no request of the page is in flight and the app shows no spinner. */
export async function settled(page: Page): Promise<void> {
  await page.locator('.spinner').first().waitFor({ state: 'detached' });
}

/** Signs in through the app's own screens (an account made beforehand) and lands on the drive. */
export async function signInInApp(page: Page, dispatcherUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${dispatcherUrl}/signin`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Your drive is empty').waitFor();
}

/** Signs up through the app's own screens and lands on the (empty) drive. */
export async function signUpInApp(page: Page, dispatcherUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${dispatcherUrl}/signup`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Your drive is empty').waitFor();
}
