/**
 * Share links in Chromium: the owner makes a password link to a folder from the drive, a
 * visitor in another browser (no account) opens it through the dispatcher, gives the password,
 * browses in and downloads a file, sees an image preview; once revoked the link says it does not work.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, waitUntil, type BrowserCloud } from './browser-cloud.js';

/** A 1×1 PNG, for the image preview. */
const PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

describe('browser: share links', function () {
  this.timeout(180_000);
  let cloud: BrowserCloud;
  let owner: { context: BrowserContext; page: Page };
  let visitor: { context: BrowserContext; page: Page };

  before(async () => {
    cloud = await startBrowserCloud({ frontends: 2 });
    owner = await openBrowser();
    visitor = await openBrowser();
  });
  after(async () => {
    await owner?.context.close();
    await visitor?.context.close();
    killAllRoles();
    cleanupTempDirs();
  });

  it('shares a folder with a password; a visitor without an account opens it, browses, previews and downloads; revoked, it stops', async () => {
    const page = owner.page;
    await signUpInApp(page, cloud.dispatcherUrl, 'uma', 'correct horse');
    const made = await page.evaluate(async (png: number[]) => {
      const mark = { 'X-PennCloud-Request': '1' };
      const statuses = [
        (await fetch('/api/folders/Trip/Photos?parents=1', { method: 'POST', headers: mark })).status,
        (await fetch('/api/files/Trip/plan.txt', { method: 'PUT', headers: mark, body: 'day 1: beach' })).status,
        (await fetch('/api/files/Trip/Photos/dot.png', { method: 'PUT', headers: mark, body: new Uint8Array(png) })).status,
      ];
      return statuses;
    }, [...PIXEL_PNG]);
    expect(made).to.deep.equal([201, 201, 201]);
    await page.goto(`${cloud.dispatcherUrl}/drive`);
    const row = page.locator('tr[data-entry-name="Trip"]');
    await row.getByRole('button', { name: 'Share Trip' }).click();
    const dialog = page.getByRole('dialog', { name: 'Share “Trip”' });
    await dialog.getByLabel('Link expires').selectOption('7');
    await dialog.getByLabel('Password (optional)').fill('sandcastle');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const address = dialog.getByLabel('Link address');
    await address.waitFor({ timeout: UI_TIMEOUT_MS });
    const link = await address.inputValue();
    expect(link).to.match(new RegExp(`^${cloud.dispatcherUrl}/s/[A-Za-z0-9_-]{22}$`));
    expect(await dialog.textContent()).to.contain('Password · Expires');
    await screenshot(page, 'share-dialog');

    // The visitor, in a browser of their own with no session, comes through the dispatcher.
    const v = visitor.page;
    await v.goto(link);
    await v.getByRole('heading', { name: 'This link is protected' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await v.getByLabel('Password').fill('wrong one');
    await v.getByRole('button', { name: 'Open' }).click();
    await v.getByText('wrong password for this link').waitFor({ timeout: UI_TIMEOUT_MS });
    await v.getByLabel('Password').fill('sandcastle');
    await v.getByRole('button', { name: 'Open' }).click();
    await v.getByRole('heading', { name: 'Trip' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await v.getByRole('button', { name: 'Photos' }).click();
    await v.locator('li[data-entry-name="dot.png"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await v.getByRole('button', { name: 'Up' }).click();
    const download = v.waitForEvent('download');
    await v.getByRole('link', { name: 'plan.txt' }).click();
    const saved = await (await download).path();
    expect(readFileSync(saved!, 'utf8')).to.equal('day 1: beach');
    await screenshot(v, 'share-visitor');

    // Revoked by the owner: the visitor's next look finds a dead link.
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('.toast', { hasText: 'Link revoked' }).first().waitFor({ timeout: UI_TIMEOUT_MS });
    await v.reload();
    await v.getByRole('heading', { name: 'This link does not work' }).waitFor({ timeout: UI_TIMEOUT_MS });
  });

  it('a file link shows an image preview to a visitor', async () => {
    const page = owner.page;
    const token = await page.evaluate(async () => {
      const reply = await fetch('/api/shares', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/Trip/Photos/dot.png' }) });
      return ((await reply.json()) as { share: { token: string } }).share.token;
    });
    const v = visitor.page;
    await v.goto(`${cloud.dispatcherUrl}/s/${token}`);
    const image = v.getByRole('img', { name: 'dot.png' });
    await image.waitFor({ timeout: UI_TIMEOUT_MS });
    // The picture really loaded (1 pixel wide), not just its element.
    const width = await waitUntil(v, () => image.evaluate((el) => {
      const img = el as unknown as { complete: boolean; naturalWidth: number };
      return img.complete ? img.naturalWidth : -1;
    }), (w) => w !== -1, 'the preview image has not loaded');
    expect(width).to.equal(1);
    expect(await v.getByRole('link', { name: 'Download' }).isVisible()).to.equal(true);
  });

  it('shares a folder with another user from the Share dialog; it appears under Shared with me, read-only', async () => {
    const v = visitor.page;
    await signUpInApp(v, cloud.dispatcherUrl, 'vic', 'correct horse');
    const page = owner.page;
    await page.goto(`${cloud.dispatcherUrl}/drive`);
    await page.locator('tr[data-entry-name="Trip"]').getByRole('button', { name: 'Share Trip' }).click();
    const dialog = page.getByRole('dialog', { name: 'Share “Trip”' });
    await dialog.getByLabel('Username').fill('nobody-like-this');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog.getByText('there is no user "nobody-like-this"').waitFor({ timeout: UI_TIMEOUT_MS });
    await dialog.getByLabel('Username').fill('vic');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await dialog.getByRole('button', { name: 'Remove vic' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await screenshot(page, 'share-with-user');

    await v.goto(`${cloud.dispatcherUrl}/drive`);
    await v.getByRole('link', { name: 'Shared with me' }).click();
    await v.locator('li[data-entry-name="Trip"]').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await v.locator('li[data-entry-name="Trip"]').textContent()).to.contain('from uma');
    await v.getByRole('button', { name: 'Trip' }).click();
    await v.getByText('Shared by uma · read-only').waitFor({ timeout: UI_TIMEOUT_MS });
    const download = v.waitForEvent('download');
    await v.getByRole('link', { name: 'plan.txt' }).click();
    expect(readFileSync((await (await download).path())!, 'utf8')).to.equal('day 1: beach');

    await dialog.getByRole('button', { name: 'Remove vic' }).click();
    await page.locator('.toast', { hasText: 'vic no longer has access.' }).first().waitFor({ timeout: UI_TIMEOUT_MS });
    await v.reload();
    await v.getByText('Nothing is shared with you yet').waitFor({ timeout: UI_TIMEOUT_MS });
  });
});
