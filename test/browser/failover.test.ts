import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, type BrowserCloud } from './browser-cloud.js';

describe('browser: a frontend dies under the user', function () {
  this.timeout(180_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;

  beforeEach(async () => {
    cloud = await startBrowserCloud({ frontends: 3 });
    ({ context, page } = await openBrowser());
  });

  afterEach(async () => {
    await context?.close();
    killAllRoles();
    cleanupTempDirs();
  });

  const row = (name: string) => page.locator(`tr[data-entry-name="${name}"]`);

  /** Kills (SIGKILL) the frontend serving the page now; returns its origin. */
  async function killCurrentFrontend(): Promise<string> {
    const origin = new URL(page.url()).origin;
    const index = cloud.frontendUrls.indexOf(origin);
    expect(index, `the page is on a frontend (${origin})`).to.be.at.least(0);
    const victim = cloud.frontends[index]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    return origin;
  }

  it('finishes the next action on another frontend, still signed in', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'dana', 'correct horse');
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill('Before');
    await page.getByRole('button', { name: 'Create' }).click();
    await row('Before').waitFor();

    const first = await killCurrentFrontend();
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill('After');
    await page.getByRole('button', { name: 'Create' }).click();
    // The app says what is happening, then comes back on a live frontend with the folder made.
    const banner = page.getByText('Connecting you to another one');
    await banner.waitFor({ timeout: 2_000 }).then(() => screenshot(page, 'reconnecting'), () => undefined);
    await row('After').waitFor();
    await row('Before').waitFor();
    const second = new URL(page.url()).origin;
    expect(second).to.not.equal(first);
    expect(cloud.frontendUrls).to.include(second);
    await page.getByRole('link', { name: 'Account of dana' }).waitFor();

    // Again, with a read this time: opening a folder after the frontend died.
    await killCurrentFrontend();
    await row('Before').getByRole('link', { name: /Before/ }).click();
    await page.getByText('This folder is empty').waitFor();
    const third = new URL(page.url()).origin;
    expect([first, second]).to.not.include(third);
    expect(new URL(page.url()).pathname).to.equal('/drive/Before');
    await page.getByRole('link', { name: 'Account of dana' }).waitFor();
  });

  it('brings an unsent message back on the new frontend, ready to send again', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'max', 'correct horse');
    await page.getByRole('link', { name: 'Mail' }).click();
    await page.getByText('No mail yet').waitFor();
    const first = await killCurrentFrontend();

    await page.getByRole('button', { name: 'Compose' }).click();
    const dialog = page.getByRole('dialog', { name: 'New message' });
    await dialog.getByLabel('To').fill('max@localhost');
    await dialog.getByLabel('Subject').fill('Across the gap');
    await dialog.getByLabel('Message').fill('Written on one frontend, sent from another.');
    await dialog.getByRole('button', { name: 'Send' }).click();

    // On a live frontend the message is open again with what was typed.
    await page.waitForURL((url) => url.origin !== first && url.pathname === '/mail/inbox');
    const reopened = page.getByRole('dialog', { name: 'New message' });
    await reopened.getByLabel('Subject').waitFor();
    expect(await reopened.getByLabel('Subject').inputValue()).to.equal('Across the gap');
    expect(await reopened.getByLabel('Message').inputValue()).to.equal('Written on one frontend, sent from another.');
    await reopened.getByRole('button', { name: 'Send' }).click();
    await reopened.waitFor({ state: 'detached' });
    await page.locator('li[data-message-subject="Across the gap"]').waitFor();
  });
});
