import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, settled, signUpInApp, startBrowserCloud, type BrowserCloud } from './browser-cloud.js';

describe('browser: accounts and the drive, through the dispatcher', function () {
  this.timeout(180_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;

  beforeEach(async () => {
    cloud = await startBrowserCloud({ frontends: 2 });
    ({ context, page } = await openBrowser());
  });

  afterEach(async () => {
    await context?.close();
    killAllRoles();
    cleanupTempDirs();
  });

  /** The row of the drive's table for `name`. */
  const row = (name: string) => page.locator(`tr[data-entry-name="${name}"]`);

  it('signs up (errors beside the field), signs out and in, uploads with progress, downloads the same bytes, previews text', async () => {
    await page.goto(`${cloud.dispatcherUrl}/`);
    // The dispatcher sent the browser to a frontend, which shows the sign-in screen.
    expect(cloud.frontendUrls.some((u) => page.url().startsWith(u))).to.equal(true);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('Not Valid!');
    await page.getByLabel('Password', { exact: true }).fill('correct horse');
    await page.getByLabel('Confirm password').fill('correct horse');
    await page.getByRole('button', { name: 'Create account' }).click();
    const usernameError = page.locator('.field', { has: page.getByLabel('Username') }).locator('.field-error');
    await usernameError.waitFor();
    expect(await usernameError.textContent()).to.match(/not a valid username/);
    expect(await page.getByLabel('Username').getAttribute('aria-invalid')).to.equal('true');
    await screenshot(page, 'sign-up-error');

    await page.getByLabel('Username').fill('ann');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Your drive is empty').waitFor();
    expect(new URL(page.url()).pathname).to.equal('/drive');
    await screenshot(page, 'drive-empty');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Username').fill('ann');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong username or password.').waitFor();
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Your drive is empty').waitFor();

    const big = randomBytes(3 * 1024 * 1024 + 17);
    const notes = Buffer.from('Meeting notes\nline two: ünïcödé\n');
    // A slow uplink (2 MB/s), so the upload is seen part-way; every value the overall bar shows is kept.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024 });
    await page.evaluate(`window.progressSeen = new Set(); window.progressWatch = setInterval(() => {
      const bar = document.querySelector('progress[aria-label="All uploads"]');
      if (bar) window.progressSeen.add(Number(bar.value));
    }, 20)`);
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload files' }).click();
    await (await chooser).setFiles([
      { name: 'report.bin', mimeType: 'application/octet-stream', buffer: big },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: notes },
    ]);
    // The panel shows a bar for all uploads and one per file, and ends at 100%.
    await page.getByRole('heading', { name: '2 files uploaded' }).waitFor();
    const seen = await page.evaluate('clearInterval(window.progressWatch), [...window.progressSeen]') as number[];
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    expect(seen.some((v) => v > 0 && v < 100), `overall progress seen: ${seen.join(', ')}`).to.equal(true);
    expect(await page.getByLabel('All uploads').getAttribute('value')).to.equal('100');
    expect(await page.getByLabel('Upload of report.bin').getAttribute('value')).to.equal('100');
    expect(await page.locator('.progress-text').textContent()).to.contain('100% · 3.0 MB of 3.0 MB');
    await row('report.bin').waitFor();
    await row('notes.txt').waitFor();
    expect(await row('report.bin').locator('.col-size').textContent()).to.equal('3.0 MB');
    // Sorting: by name at first; Size puts the largest on top, a second click the smallest.
    const names = () => page.locator('tr[data-entry-name]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-entry-name')));
    expect(await names()).to.deep.equal(['notes.txt', 'report.bin']);
    await page.getByRole('button', { name: 'Size' }).click();
    await page.locator('th[aria-sort="descending"]', { hasText: 'Size' }).waitFor();
    expect(await names()).to.deep.equal(['report.bin', 'notes.txt']);
    await page.getByRole('button', { name: 'Size' }).click();
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Size' }).waitFor();
    expect(await names()).to.deep.equal(['notes.txt', 'report.bin']);
    await screenshot(page, 'drive-uploaded');

    const download = page.waitForEvent('download');
    await row('report.bin').getByRole('link', { name: 'Download report.bin' }).click();
    const file = await (await download).path();
    expect(readFileSync(file).equals(big)).to.equal(true);

    await row('notes.txt').getByRole('button', { name: /^notes\.txt/ }).click();
    const preview = page.getByRole('dialog', { name: 'notes.txt' });
    await preview.getByText('line two: ünïcödé').waitFor();
    await screenshot(page, 'drive-preview-text');
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });
  });

  it('creates, renames, moves and deletes folders; breadcrumbs lead back', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'bob', 'correct horse');
    const newFolder = async (name: string) => {
      await page.getByRole('button', { name: 'New folder' }).click();
      await page.getByLabel('Folder name').fill(name);
      await page.getByRole('button', { name: 'Create' }).click();
      await row(name).waitFor();
    };
    await newFolder('Projects');
    // With the keyboard alone: to the button, open the dialog, type, Enter.
    await page.getByRole('button', { name: 'New folder' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'New folder' }).waitFor();
    await page.keyboard.type('Archive');
    await page.keyboard.press('Enter');
    await row('Archive').waitFor();
    // A name already taken is refused inside the dialog, which stays open.
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill('Archive');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('dialog').getByText(/already exists/).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();

    await row('Projects').getByRole('button', { name: 'Rename Projects' }).click();
    await page.getByLabel('New name').fill('Plans');
    await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
    await row('Plans').waitFor();
    await row('Projects').waitFor({ state: 'detached' });

    await row('Plans').getByRole('button', { name: 'Move Plans' }).click();
    const mover = page.getByRole('dialog', { name: 'Move “Plans”' });
    // A folder is never offered as a place inside itself.
    expect(await mover.getByRole('button', { name: 'Plans' }).isDisabled()).to.equal(true);
    await mover.getByRole('button', { name: 'Archive' }).click();
    await mover.getByText('Move into Archive').waitFor();
    await screenshot(page, 'drive-move-dialog');
    await mover.getByRole('button', { name: 'Move here' }).click();
    await row('Plans').waitFor({ state: 'detached' });

    await row('Archive').getByRole('link', { name: /Archive/ }).click();
    await row('Plans').waitFor();
    expect(new URL(page.url()).pathname).to.equal('/drive/Archive');
    expect(await page.getByRole('navigation', { name: 'Folder path' }).textContent()).to.equal('My DriveArchive');
    await screenshot(page, 'drive-folder');

    // Delete moves to the trash at once; the toast's Undo brings it back, a second delete stays.
    await row('Plans').getByRole('button', { name: 'Delete Plans' }).click();
    const toastOf = page.locator('.toast', { hasText: 'Moved “Plans” to the trash.' });
    await toastOf.waitFor();
    await page.getByText('This folder is empty').waitFor();
    await screenshot(page, 'drive-delete-undo');
    await toastOf.getByRole('button', { name: 'Undo' }).click();
    await page.locator('.toast', { hasText: 'Delete undone.' }).waitFor();
    await row('Plans').waitFor();
    await row('Plans').getByRole('button', { name: 'Delete Plans' }).click();
    await page.getByText('This folder is empty').waitFor();

    await page.getByRole('navigation', { name: 'Folder path' }).getByRole('link', { name: 'My Drive' }).click();
    await row('Archive').waitFor();
    await settled(page);
    expect(await page.locator('tr[data-entry-name]').count()).to.equal(1);

    // Reloading a deep address shows the same folder (the frontend serves the app for it).
    await page.goto(`${new URL(page.url()).origin}/drive/Archive`);
    await page.getByText('This folder is empty').waitFor();

    // Names with characters that mean something in URLs still work, in the list and the address.
    const odd = 'Q1 #2 100% ü?';
    await newFolder(odd);
    await row(odd).getByRole('link').click();
    await page.getByText('This folder is empty').waitFor();
    expect(await page.getByRole('navigation', { name: 'Folder path' }).textContent()).to.equal(`My DriveArchive${odd}`);
    await page.reload();
    await page.getByText('This folder is empty').waitFor();
    expect(decodeURIComponent(new URL(page.url()).pathname)).to.equal(`/drive/Archive/${odd}`);
  });

  it('changes the password: a wrong current one is reported beside its field', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'cleo', 'first password');
    await page.getByRole('link', { name: 'Account of cleo' }).click();
    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password', { exact: true }).fill('second password');
    await page.getByLabel('Confirm new password').fill('second password');
    await page.getByRole('button', { name: 'Change password' }).click();
    const oldError = page.locator('.field', { has: page.getByLabel('Current password') }).locator('.field-error');
    await oldError.waitFor();
    expect(await oldError.textContent()).to.match(/current password/i);
    await screenshot(page, 'account-error');

    await page.getByLabel('Current password').fill('first password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed.').waitFor();
    await screenshot(page, 'account');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').fill('cleo');
    await page.getByLabel('Password').fill('second password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Your drive is empty').waitFor();
  });
});
