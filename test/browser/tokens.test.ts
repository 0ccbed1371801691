/**
 * API tokens on the account page, in Chromium: a token is made and shown once, works with
 * curl-style requests in its scope, is listed with its access, and stops working when revoked.
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, type BrowserCloud } from './browser-cloud.js';

describe('browser: API tokens on the account page', function () {
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

  it('makes a read-only token shown once, which lists but cannot upload, and revoking it ends it', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'tara', 'correct horse');
    await page.getByRole('link', { name: 'Account of tara' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.getByText('No tokens yet.').isVisible()).to.equal(true);

    // A token needs a name: the form says so rather than sending nothing.
    await page.getByRole('button', { name: 'Make token' }).click();
    await page.locator('.field-error', { hasText: 'Name the token' }).waitFor({ timeout: UI_TIMEOUT_MS });

    await page.getByLabel('Token name').fill('photo backup');
    await page.getByLabel('Access').selectOption('read');
    await page.getByRole('button', { name: 'Make token' }).click();
    const secretText = page.getByTestId('token-secret');
    await secretText.waitFor({ timeout: UI_TIMEOUT_MS });
    const secret = (await secretText.textContent())!;
    expect(secret).to.match(/^pct_[0-9a-f]{16}_/);
    expect(await page.getByText('it will not be shown again').isVisible()).to.equal(true);
    const row = page.getByRole('row', { name: /photo backup/ });
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row.textContent()).to.contain('Read only').and.contain('Never');
    await screenshot(page, 'account-token-made');

    // Used as a script would: it lists tara's drive, and may not upload.
    const base = cloud.frontendUrls[0]!;
    const list = await fetch(`${base}/api/files/`, { headers: { authorization: `Bearer ${secret}` } });
    expect(list.status).to.equal(200);
    const upload = await fetch(`${base}/api/files/x.txt`, { method: 'PUT', body: 'x', headers: { authorization: `Bearer ${secret}` } });
    expect(upload.status).to.equal(403);

    // A reload lists the token but never shows its text again.
    await page.reload();
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.getByTestId('token-secret').count()).to.equal(0);
    expect(await page.content()).to.not.contain(secret.split('_')[2]);

    await page.getByRole('button', { name: 'Revoke photo backup' }).click();
    await page.getByText('Token "photo backup" revoked.').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByText('No tokens yet.').waitFor({ timeout: UI_TIMEOUT_MS });
    const after = await fetch(`${base}/api/files/`, { headers: { authorization: `Bearer ${secret}` } });
    expect(after.status).to.equal(401);
    await screenshot(page, 'account-token-revoked');
  });
});
