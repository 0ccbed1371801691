/**
 * Working on many things at once in the drive, in Chromium: checkboxes with shift-click and
 * select-all, a ZIP of the selection (opened by `unzip`), moving and deleting several items with
 * one Undo each.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles, tempDir } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, type BrowserCloud } from './browser-cloud.js';

describe('browser: selecting several items in the drive', function () {
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
  const names = async () => page.locator('tr[data-entry-name]').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { entryName: string } }).dataset.entryName));

  it('selects a range with shift-click, downloads it as a zip, moves and deletes several with one Undo', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'walt', 'correct horse');
    const made = await page.evaluate(async () => {
      const mark = { 'X-PennCloud-Request': '1' };
      const statuses = [(await fetch('/api/folders/Archive', { method: 'POST', headers: mark })).status];
      for (const n of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) {
        statuses.push((await fetch(`/api/files/${n}`, { method: 'PUT', headers: mark, body: `file ${n}` })).status);
      }
      return statuses;
    });
    expect(made).to.deep.equal([201, 201, 201, 201, 201]);
    await page.goto(`${cloud.dispatcherUrl}/drive`);
    await row('d.txt').waitFor({ timeout: UI_TIMEOUT_MS });

    await row('a.txt').getByRole('checkbox', { name: 'Select a.txt' }).click();
    await row('c.txt').getByRole('checkbox', { name: 'Select c.txt' }).click({ modifiers: ['Shift'] });
    await page.getByText('3 items selected').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row('b.txt').getByRole('checkbox').isChecked()).to.equal(true);
    expect(await row('d.txt').getByRole('checkbox').isChecked()).to.equal(false);
    await screenshot(page, 'drive-selection');

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download as zip' }).click();
    const saved = await (await download).path();
    const listing = execFileSync('unzip', ['-Z1', saved!], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).to.deep.equal(['a.txt', 'b.txt', 'c.txt']);
    expect(execFileSync('unzip', ['-p', saved!, 'b.txt'], { encoding: 'utf8' })).to.equal('file b.txt');

    // Move the three into Archive, then Undo: all three come back.
    await page.getByRole('toolbar', { name: 'Selected items' }).getByRole('button', { name: 'Move' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move 3 items' });
    await dialog.getByRole('button', { name: /Archive/ }).click();
    await dialog.getByRole('button', { name: 'Move here' }).click();
    await dialog.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    const moved = page.locator('.toast', { hasText: 'Moved 3 items to “Archive”.' });
    await moved.waitFor({ timeout: UI_TIMEOUT_MS });
    await row('a.txt').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    expect(await names()).to.deep.equal(['Archive', 'd.txt']);
    await moved.getByRole('button', { name: 'Undo' }).click();
    await page.locator('.toast', { hasText: 'Move undone.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await row('c.txt').waitFor({ timeout: UI_TIMEOUT_MS });

    // Select all, deselect the folder, delete: one toast, one Undo for all four files.
    await page.getByRole('checkbox', { name: 'Select all' }).click();
    await page.getByText('5 items selected').waitFor({ timeout: UI_TIMEOUT_MS });
    await row('Archive').getByRole('checkbox').click();
    await page.getByText('4 items selected').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByRole('toolbar', { name: 'Selected items' }).getByRole('button', { name: 'Delete' }).click();
    const deleted = page.locator('.toast', { hasText: 'Moved 4 items to the trash.' });
    await deleted.waitFor({ timeout: UI_TIMEOUT_MS });
    await row('d.txt').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    expect(await names()).to.deep.equal(['Archive']);
    await deleted.getByRole('button', { name: 'Undo' }).click();
    await page.locator('.toast', { hasText: 'Delete undone.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await row('d.txt').waitFor({ timeout: UI_TIMEOUT_MS });
    expect((await names()).sort()).to.deep.equal(['Archive', 'a.txt', 'b.txt', 'c.txt', 'd.txt']);
  });

  it('moves rows dragged onto a folder and onto a breadcrumb, and uploads a folder with its tree', async () => {
    await page.goto(`${cloud.dispatcherUrl}/drive`);
    await row('a.txt').waitFor({ timeout: UI_TIMEOUT_MS });
    await row('a.txt').dragTo(row('Archive'));
    await page.locator('.toast', { hasText: 'Moved “a.txt” to “Archive”.' }).first().waitFor({ timeout: UI_TIMEOUT_MS });
    await row('a.txt').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    await row('Archive').getByRole('link', { name: /Archive/ }).click();
    await row('a.txt').waitFor({ timeout: UI_TIMEOUT_MS });
    await row('a.txt').dragTo(page.getByRole('navigation', { name: 'Folder path' }).getByRole('link', { name: 'My Drive' }));
    await page.getByText('This folder is empty').waitFor({ timeout: UI_TIMEOUT_MS });

    // A folder from the folder picker arrives with its subfolders.
    const dir = tempDir('penncloud-upload-');
    mkdirSync(join(dir, 'Album', 'Day 2'), { recursive: true });
    writeFileSync(join(dir, 'Album', 'cover.txt'), 'cover');
    writeFileSync(join(dir, 'Album', 'Day 2', 'sunset.txt'), 'sunset');
    await page.getByTestId('folder-input').setInputFiles(join(dir, 'Album'));
    await row('Album').waitFor({ timeout: UI_TIMEOUT_MS });
    const tree = await page.evaluate(async () => {
      const list = async (p: string) => ((await (await fetch(`/api/files${p}`)).json()) as { entries: { name: string }[] }).entries.map((e) => e.name);
      return { album: await list('/Archive/Album'), day: await list('/Archive/Album/Day%202') };
    });
    expect(tree).to.deep.equal({ album: ['Day 2', 'cover.txt'], day: ['sunset.txt'] });
  });
});
