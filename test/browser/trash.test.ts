/**
 * The drive's trash in Chromium: a deleted file waits in the Trash with where it came from,
 * restores to its folder, a move can be undone from its toast, and emptying the trash (after a
 * confirmation) frees the space shown by the usage meter.
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, type BrowserCloud } from './browser-cloud.js';

describe('browser: the drive trash', function () {
  this.timeout(180_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    cloud = await startBrowserCloud({ frontends: 1 });
    ({ context, page } = await openBrowser());
  });
  after(async () => {
    await context?.close();
    killAllRoles();
    cleanupTempDirs();
  });

  const row = (name: string) => page.locator(`tr[data-entry-name="${name}"]`);

  it('restores a deleted file to its folder, undoes a move, and empties the trash after asking', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'tom', 'correct horse');
    // Files made through the API of the same session: the app lists them.
    const made = await page.evaluate(async () => {
      const mark = { 'X-PennCloud-Request': '1' };
      const a = await fetch('/api/folders/Reports', { method: 'POST', headers: mark });
      const b = await fetch('/api/files/Reports/q3.txt', { method: 'PUT', headers: mark, body: 'third quarter' });
      const c = await fetch('/api/files/notes.txt', { method: 'PUT', headers: mark, body: 'a note of 21 bytes...' });
      return [a.status, b.status, c.status];
    });
    expect(made).to.deep.equal([201, 201, 201]);
    await page.goto(`${cloud.dispatcherUrl}/drive/Reports`);
    await row('q3.txt').waitFor({ timeout: UI_TIMEOUT_MS });
    await row('q3.txt').getByRole('button', { name: 'Delete q3.txt' }).click();
    await page.getByText('This folder is empty').waitFor({ timeout: UI_TIMEOUT_MS });

    await page.getByRole('link', { name: 'Trash' }).click();
    await page.getByRole('heading', { name: 'Trash' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await row('q3.txt').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row('q3.txt').textContent()).to.contain('from /Reports');
    expect(await page.getByText('deleted for good after 30 days').isVisible()).to.equal(true);
    await screenshot(page, 'drive-trash');
    await row('q3.txt').getByRole('button', { name: 'Restore q3.txt' }).click();
    await page.locator('.toast', { hasText: 'Restored “q3.txt” to “Reports”.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByText('The trash is empty').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.goto(`${cloud.dispatcherUrl}/drive/Reports`);
    await row('q3.txt').waitFor({ timeout: UI_TIMEOUT_MS });

    // A move, undone from its toast: the file is back in the folder it left.
    await page.goto(`${cloud.dispatcherUrl}/drive`);
    await row('notes.txt').getByRole('button', { name: 'Move notes.txt' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: /Reports/ }).click();
    await dialog.getByRole('button', { name: 'Move here' }).click();
    await dialog.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    const moved = page.locator('.toast', { hasText: 'Moved “notes.txt” to “Reports”.' });
    await moved.waitFor({ timeout: UI_TIMEOUT_MS });
    await row('notes.txt').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    await moved.getByRole('button', { name: 'Undo' }).click();
    await page.locator('.toast', { hasText: 'Move undone.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await row('notes.txt').waitFor({ timeout: UI_TIMEOUT_MS });

    // notes.txt to the trash: it still counts (13 + 21 bytes); emptying the trash asks first, then frees its bytes.
    await row('notes.txt').getByRole('button', { name: 'Delete notes.txt' }).click();
    await row('notes.txt').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    await page.goto(`${cloud.dispatcherUrl}/trash`);
    await row('notes.txt').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('.usage').textContent()).to.contain('34 bytes of');
    await page.getByRole('button', { name: 'Empty trash' }).click();
    const confirm = page.getByRole('dialog', { name: 'Empty the trash?' });
    await confirm.getByText('1 item will be deleted for good').waitFor({ timeout: UI_TIMEOUT_MS });
    await confirm.getByRole('button', { name: 'Empty trash' }).click();
    await confirm.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    await page.getByText('The trash is empty').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('.usage', { hasText: /^13 bytes of/ }).waitFor({ timeout: UI_TIMEOUT_MS });
  });
});
