/**
 * The small things people notice: a sign-up with nothing filled in names both fields, a lock-out
 * says its wait in minutes, only an administrator sees the Admin tab, a toast shown while a
 * dialog is open is read above the dialog, dark mode follows the system's setting, the tab's
 * title counts unread mail, and the keyboard shortcuts of mail apps work.
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
/** The page's own globals, inside page.evaluate (this project's tests compile without the DOM library). */
declare const document: {
  elementFromPoint(x: number, y: number): { closest(s: string): { textContent: string | null } | null } | null;
  documentElement: unknown;
  activeElement: { textContent: string | null } | null;
};
declare function getComputedStyle(element: unknown): { backgroundColor: string };
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, waitForTitle, type BrowserCloud } from './browser-cloud.js';

/** Tries at catching a toast while a second dialog opens (see the toast test). */
const TOAST_ATTEMPTS_MAX = 3;

describe('browser: the small things people notice', function () {
  this.timeout(180_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    cloud = await startBrowserCloud({ frontends: 1 });
  });
  after(() => {
    killAllRoles();
    cleanupTempDirs();
  });
  beforeEach(async () => {
    ({ context, page } = await openBrowser());
  });
  afterEach(async () => {
    await context?.close();
  });

  const fieldError = (label: string) => page.locator('.field', { has: page.getByLabel(label, { exact: true }) }).locator('.field-error');

  it('a sign-up with nothing filled in names both missing fields', async () => {
    await page.goto(`${cloud.dispatcherUrl}/signup`);
    await page.getByRole('button', { name: 'Create account' }).click();
    await fieldError('Username').waitFor();
    expect(await fieldError('Username').textContent()).to.equal('Choose a username.');
    expect(await fieldError('Password').textContent()).to.equal('Choose a password.');
    await screenshot(page, 'sign-up-empty');
  });

  it('a locked-out sign-in says how many minutes to wait', async () => {
    const api = cloud.frontendUrls[0]!;
    const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await fetch(`${api}/api/users`, json({ username: 'lou', password: 'correct horse' }))).status).to.equal(201);
    // Five wrong passwords lock the name for the throttle's window (15 minutes).
    for (let i = 0; i < 5; i += 1) {
      const res = await fetch(`${api}/api/session`, json({ username: 'lou', password: `wrong ${i}` }));
      await res.arrayBuffer();
      expect(res.status).to.equal(401);
    }
    await page.goto(`${cloud.dispatcherUrl}/signin`);
    await page.getByLabel('Username').fill('lou');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.locator('.form-error');
    await alert.waitFor();
    expect(await alert.textContent()).to.match(/try again in 15 minutes/);
    expect(await alert.textContent()).to.not.match(/\d+ s\b/);
    await screenshot(page, 'sign-in-locked');
  });

  it('shows the Admin tab to no one but an administrator, not even on /admin', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'pat', 'correct horse');
    expect(await page.getByRole('link', { name: 'Admin' }).count()).to.equal(0);
    await page.goto(`${new URL(page.url()).origin}/admin`);
    await page.getByRole('heading', { name: 'Admins only' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents())
      .to.deep.equal(['Drive', 'Mail']);
  });

  it('shows a toast above a dialog opened after it, where it can be read and dismissed', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'kim', 'correct horse');
    const dialog = page.getByRole('dialog', { name: 'New folder' });
    // A toast lasts a few seconds; on a loaded machine it may be gone before the second dialog is
    // up, and then there is nothing to see: try again with a new folder, a bounded number of times.
    let seen = false;
    for (let attempt = 1; attempt <= TOAST_ATTEMPTS_MAX && !seen; attempt += 1) {
      await page.getByRole('button', { name: 'New folder' }).click();
      await page.getByLabel('Folder name').fill(`plans-${attempt}`);
      await page.getByRole('button', { name: 'Create' }).click();
      const created = `Folder “plans-${attempt}” created.`;
      await page.locator('.toasts .toast', { hasText: created }).first().waitFor();
      await dialog.waitFor({ state: 'detached' });
      // A second dialog at once, while the toast still shows.
      await page.getByRole('button', { name: 'New folder' }).click();
      await dialog.waitFor();
      const inDialog = dialog.locator('.toast', { hasText: created });
      try {
        await inDialog.waitFor({ timeout: 2_000 });
      } catch {
        const stillShown = await page.locator('.toast', { hasText: created }).count();
        expect(stillShown, 'the toast is on the page but not above the dialog').to.equal(0);
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        continue;
      }
      // What is on top at the toast's place is the toast itself, not the dialog's backdrop.
      const box = (await inDialog.boundingBox())!;
      const topmost = await page.evaluate(([x, y]) => document.elementFromPoint(x!, y!)?.closest('.toast')?.textContent ?? null,
        [box.x + box.width / 2, box.y + box.height / 2]);
      expect(topmost).to.contain(created);
      await screenshot(page, 'toast-above-dialog');
      await inDialog.getByRole('button', { name: 'Dismiss' }).click();
      await inDialog.waitFor({ state: 'detached' });
      expect(await page.locator('.toast', { hasText: created }).count()).to.equal(0);
      seen = true;
    }
    expect(seen, `a toast outlived the opening of a dialog in none of ${TOAST_ATTEMPTS_MAX} tries`).to.equal(true);
  });

  it('follows the system into dark mode and back', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${cloud.dispatcherUrl}/signin`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(await background()).to.equal('rgb(20, 23, 29)');
    await screenshot(page, 'sign-in-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await background()).to.equal('rgb(245, 246, 248)');
  });

  it('counts unread mail in the tab title, and answers ?, c, j, k and Enter from the keyboard', async () => {
    const api = cloud.frontendUrls[0]!;
    const json = (body: unknown, cookie?: string) => ({
      method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body),
    });
    for (const name of ['sam', 'val']) expect((await fetch(`${api}/api/users`, json({ username: name, password: 'correct horse' }))).status).to.equal(201);
    const session = await fetch(`${api}/api/session`, json({ username: 'sam', password: 'correct horse' }));
    await session.arrayBuffer();
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    for (const subject of ['First note', 'Second note', 'Third note']) {
      const sent = await fetch(`${api}/api/mail/send`, json({ to: ['val@localhost'], subject, text: `${subject}, in words.` }, cookie));
      expect(sent.status, await sent.clone().text()).to.equal(201);
    }
    await page.goto(`${cloud.dispatcherUrl}/signin`);
    await page.getByLabel('Username').fill('val');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Mail' }).click();
    await page.getByText('Third note').waitFor();
    await waitForTitle(page, 'Mail (3) · PennCloud');

    const focused = () => page.evaluate(() => document.activeElement?.textContent ?? '');
    await page.keyboard.press('j');
    expect(await focused()).to.contain('Third note');
    await page.keyboard.press('j');
    expect(await focused()).to.contain('Second note');
    await page.keyboard.press('k');
    expect(await focused()).to.contain('Third note');

    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect(await help.textContent()).to.contain('Compose a message');
    await screenshot(page, 'keyboard-shortcuts');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });

    // Focus went back to the message that had it when the help opened.
    expect(await focused()).to.contain('Third note');
    await page.keyboard.press('Enter');
    await page.getByText('Third note, in words.').waitFor();
    await waitForTitle(page, 'Mail (2) · PennCloud');

    await page.keyboard.press('c');
    const composer = page.getByRole('dialog', { name: 'New message' });
    await composer.waitFor();
    // Typed letters belong to the field, not to the shortcuts: no second composer, no help.
    await composer.getByLabel('Subject').fill('');
    await composer.getByLabel('Subject').pressSequentially('c?jk');
    expect(await composer.getByLabel('Subject').inputValue()).to.equal('c?jk');
    expect(await page.getByRole('dialog').count()).to.equal(1);
  });
});
