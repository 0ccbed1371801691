/**
 * Drafts in Chromium: what is typed (and attached) in a compose is saved to Drafts as one
 * writes; closing keeps it; reopened from Drafts it holds its text and attachment, and sending
 * it empties Drafts.
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, type BrowserCloud } from './browser-cloud.js';

describe('browser: drafts', function () {
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

  it('saves as one types, keeps the draft on close, and sends it with its attachment from Drafts', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'ada', 'correct horse');
    await page.goto(`${cloud.dispatcherUrl}/mail/inbox`);
    await page.getByRole('button', { name: 'Compose' }).click();
    const dialog = page.getByRole('dialog', { name: 'New message' });
    await dialog.getByLabel('To').fill('ada@localhost');
    await dialog.getByLabel('Subject').fill('Trip notes');
    await dialog.getByLabel('Message').fill('Half written');
    await dialog.getByTestId('attach-input').setInputFiles({ name: 'map.txt', mimeType: 'text/plain', buffer: Buffer.from('the map') });
    await dialog.getByText('Draft saved').waitFor({ timeout: UI_TIMEOUT_MS });
    await dialog.getByLabel('Message').fill('Half written, and more');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    await page.locator('.toast', { hasText: 'Saved to Drafts.' }).waitFor({ timeout: UI_TIMEOUT_MS });

    await page.getByRole('link', { name: /Drafts/ }).click();
    const draft = page.locator('li[data-message-subject="Trip notes"]');
    await draft.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('li[data-message-subject]').count()).to.equal(1);
    await draft.locator('.message-link').click();
    await page.getByRole('button', { name: 'Edit draft' }).click();
    const again = page.getByRole('dialog', { name: 'Draft' });
    expect(await again.getByLabel('Message').inputValue()).to.equal('Half written, and more');
    await again.getByText('map.txt').waitFor({ timeout: UI_TIMEOUT_MS });
    await screenshot(page, 'mail-draft');
    await again.getByRole('button', { name: 'Send' }).click();
    await page.locator('.toast', { hasText: 'Message sent.' }).waitFor({ timeout: UI_TIMEOUT_MS });

    await page.getByRole('link', { name: /Drafts/ }).click();
    await page.getByText('Nothing in Drafts').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByRole('link', { name: /Inbox/ }).click();
    await page.locator('li[data-message-subject="Trip notes"] .message-link').click();
    await page.locator('.message-text', { hasText: 'Half written, and more' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByText('map.txt').first().waitFor({ timeout: UI_TIMEOUT_MS });
  });
});
