import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles, runPenncloud, startRole, stopRole, tempDir, writeTestConfig, type RoleProcess } from '../support/roles.js';
import { exactText, openBrowser, screenshot, signInInApp, signUpInApp } from './browser-cloud.js';

/** Longest wait for a node's state to change on the console (restart includes recovery). */
const STATE_CHANGE_WAIT_MS = 90_000;

describe('browser: the admin console (a whole cloud under penncloud up)', function () {
  this.timeout(300_000);
  let up: RoleProcess;
  let dispatcherUrl: string;
  let context: BrowserContext;
  let page: Page;

  beforeEach(async () => {
    const dir = tempDir('penncloud-browser-admin-');
    const file = await writeTestConfig(dir, { frontends: 2, patch: (c) => { c.admins = ['operator']; } });
    const conf = JSON.parse(readFileSync(file, 'utf8')) as { dispatcher: { host: string; port: number } };
    dispatcherUrl = `http://${conf.dispatcher.host}:${conf.dispatcher.port}`;
    up = await startRole(['up', '--conf', file, '--data', join(dir, 'data')]);
    // Admin names are reserved from public sign-up: the operator's account is made by the CLI.
    const added = await runPenncloud(['admin', 'add', 'operator', '--conf', file, '--data', join(dir, 'data')], 'correct horse\n');
    expect(added.code, added.stderr).to.equal(0);
    ({ context, page } = await openBrowser());
  });

  afterEach(async () => {
    await context?.close();
    if (up) await stopRole(up);
    killAllRoles();
    cleanupTempDirs();
  });

  const nodeRow = (name: string) => page.locator(`tr[data-node-id="${name}"]`);
  const stateOf = (name: string) => nodeRow(name).getByTestId('node-state');

  it('shows live node states, disables and restarts a storage node, and pages through raw data', async () => {
    await signInInApp(page, dispatcherUrl, 'operator', 'correct horse');
    // Some rows to page through: folders, each a few cells.
    await page.evaluate(`Promise.all(Array.from({ length: 8 }, (_, i) =>
      fetch('/api/folders/box-' + i, { method: 'POST', headers: { 'X-PennCloud-Request': '1' } })))`);
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Admin console' }).waitFor();
    for (const name of ['frontend-1', 'frontend-2']) expect(await stateOf(name).textContent()).to.equal('ALIVE');
    for (const name of ['kvnode-0', 'kvnode-1', 'kvnode-2']) await nodeRow(name).waitFor();
    for (const name of ['kvnode-0', 'kvnode-1', 'kvnode-2']) {
      await stateOf(name).filter({ hasText: /^(PRIMARY|SECONDARY)$/ }).waitFor({ timeout: STATE_CHANGE_WAIT_MS });
    }

    const tablets = page.getByRole('region', { name: 'Tablets' });
    await tablets.getByText('(start)').waitFor();
    expect(await tablets.locator('tbody tr').first().textContent()).to.match(/kvnode-\d/);

    const data = page.getByRole('region', { name: 'Raw data' });
    const firstCells = () => data.locator('tbody tr').allTextContents();
    await data.locator('tbody tr').first().waitFor();
    const pageOne = await firstCells();
    expect(pageOne).to.have.length(10);
    await screenshot(page, 'admin');
    await data.getByRole('button', { name: 'Next' }).click();
    await data.locator('tbody tr').first().filter({ hasNotText: exactText(pageOne[0]!) }).waitFor();
    const pageTwo = await firstCells();
    expect(pageTwo.length).to.be.greaterThan(0);
    expect(pageTwo).to.not.deep.equal(pageOne);
    await data.getByRole('button', { name: 'Previous' }).click();
    await data.locator('tbody tr').first().filter({ hasText: exactText(pageOne[0]!) }).waitFor();
    expect(await firstCells()).to.deep.equal(pageOne);

    await nodeRow('kvnode-2').getByRole('button', { name: /^Disable/ }).click();
    await stateOf('kvnode-2').filter({ hasText: /^DISABLED$/ }).waitFor({ timeout: STATE_CHANGE_WAIT_MS });
    await screenshot(page, 'admin-node-disabled');
    await nodeRow('kvnode-2').getByRole('button', { name: /^Restart/ }).click();
    await stateOf('kvnode-2').filter({ hasText: /^(PRIMARY|SECONDARY)$/ }).waitFor({ timeout: STATE_CHANGE_WAIT_MS });
  });

  it('tells anyone else the console is for admins only', async () => {
    await signUpInApp(page, dispatcherUrl, 'pat', 'correct horse');
    expect(await page.getByRole('link', { name: 'Admin' }).count()).to.equal(0);
    await page.goto(`${new URL(page.url()).origin}/admin`);
    await page.getByRole('heading', { name: 'Admins only' }).waitFor();
    await screenshot(page, 'admin-refused');
  });
});
