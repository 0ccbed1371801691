/**
 * Search in Chromium: the drive's box finds a file deep in folders and says where it is; the
 * mail box (focused with `/`) finds messages by sender and body words, shows their folders,
 * narrows to a folder, and a result opens the message.
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, waitUntil, type BrowserCloud } from './browser-cloud.js';

describe('browser: search in the drive and in mail', function () {
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

  it('finds a file deep in the drive by a word of its name and shows its folder', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'vera', 'correct horse');
    const made = await page.evaluate(async () => {
      const mark = { 'X-PennCloud-Request': '1' };
      return [
        (await fetch('/api/folders/Projects/2026/Taxes?parents=1', { method: 'POST', headers: mark })).status,
        (await fetch('/api/files/Projects/2026/Taxes/Receipt-Hotel.pdf', { method: 'PUT', headers: mark, body: '%PDF' })).status,
        (await fetch('/api/files/notes.txt', { method: 'PUT', headers: mark, body: 'hotel list' })).status,
      ];
    });
    expect(made).to.deep.equal([201, 201, 201]);
    await page.goto(`${cloud.dispatcherUrl}/drive`);
    await page.locator('tr[data-entry-name="notes.txt"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByLabel('Search the drive').fill('receipt');
    await page.getByLabel('Search the drive').press('Enter');
    const hit = page.locator('.search-results tr[data-entry-name="Receipt-Hotel.pdf"]');
    await hit.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await hit.textContent()).to.contain('/Projects/2026/Taxes');
    expect(await page.locator('.search-results tbody tr').count()).to.equal(1);
    await screenshot(page, 'drive-search');
    await hit.getByRole('link', { name: '/Projects/2026/Taxes' }).click();
    await page.locator('tr[data-entry-name="Receipt-Hotel.pdf"]').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(new URL(page.url()).pathname).to.equal('/drive/Projects/2026/Taxes');
  });

  it('finds mail by sender and body words with "/", shows and narrows folders, and opens a result', async () => {
    const sent = await page.evaluate(async () => {
      const send = (subject: string, text: string) => fetch('/api/mail/send', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: 'vera@localhost', subject, text }),
      }).then((r) => r.status);
      return [await send('Flight booking', 'Your seat is 14C, gate B7.'), await send('Dinner', 'Booking for two at eight.')];
    });
    expect(sent).to.deep.equal([201, 201]);
    await page.goto(`${cloud.dispatcherUrl}/mail/inbox`);
    await page.locator('[data-message-subject="Dinner"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('body').press('/');
    await page.getByLabel('Search mail').fill('booking');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Results for “booking”' }).waitFor({ timeout: UI_TIMEOUT_MS });
    const results = page.locator('.messages .message-row');
    await results.first().waitFor({ timeout: UI_TIMEOUT_MS });
    // Each message is in the Inbox and, sent by vera herself, in Sent: four results, newest first.
    expect(await results.count()).to.equal(4);
    expect(await page.locator('.message-folder').allTextContents()).to.have.members(['Inbox', 'Sent', 'Inbox', 'Sent']);
    await screenshot(page, 'mail-search');
    await page.getByLabel('In folder').selectOption('inbox');
    // The narrowed results replace the others.
    const folders = await waitUntil(page, () => page.locator('.message-folder').allTextContents(), (seen) => seen.join() === 'Inbox,Inbox',
      'the results were not narrowed to the Inbox');
    expect(folders).to.deep.equal(['Inbox', 'Inbox']);

    await page.getByLabel('Search mail').fill('gate');
    await page.getByLabel('Search mail').press('Enter');
    await page.getByRole('heading', { name: 'Results for “gate”' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('[data-message-subject="Flight booking"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('[data-message-subject="Flight booking"] .message-link').click();
    await page.locator('.message-text', { hasText: 'Your seat is 14C' }).waitFor({ timeout: UI_TIMEOUT_MS });
  });
});
