import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, type BrowserCloud } from './browser-cloud.js';

/** Longest wait for the Inbox to show new mail by itself (it refreshes every 15 s). */
const MAIL_REFRESH_WAIT_MS = 45_000;

/** Signs up and logs in `username` through the API; returns the session cookie. */
async function apiUser(baseUrl: string, username: string, password: string): Promise<string> {
  const headers = { 'content-type': 'application/json' };
  const up = await fetch(`${baseUrl}/api/users`, { method: 'POST', headers, body: JSON.stringify({ username, password }) });
  expect(up.status, await up.clone().text()).to.equal(201);
  const login = await fetch(`${baseUrl}/api/session`, { method: 'POST', headers, body: JSON.stringify({ username, password }) });
  expect(login.status).to.equal(200);
  return /penncloud_session=[^;]*/.exec(login.headers.get('set-cookie')!)![0];
}

describe('browser: the webmail', function () {
  this.timeout(240_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;
  let tracker: Server | null = null;

  beforeEach(async () => {
    cloud = await startBrowserCloud({ frontends: 1 });
    ({ context, page } = await openBrowser());
  });

  afterEach(async () => {
    await context?.close();
    tracker?.close();
    tracker = null;
    killAllRoles();
    cleanupTempDirs();
  });

  const message = (subject: string) => page.locator(`li[data-message-subject="${subject}"]`);
  const folderLink = (name: string) => page.getByRole('navigation').getByRole('link', { name: new RegExp(`^${name}`) });

  async function compose(fields: { to: string; subject?: string; text?: string }): Promise<void> {
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('To').fill(fields.to);
    if (fields.subject !== undefined) await dialog.getByLabel('Subject').fill(fields.subject);
    if (fields.text !== undefined) await dialog.getByLabel('Message').fill(fields.text);
  }

  async function send(): Promise<void> {
    await page.getByRole('dialog').getByRole('button', { name: 'Send' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  }

  it('sends to oneself and to another user, reads, replies, forwards with an attachment, deletes and restores', async () => {
    const base = cloud.frontendUrls[0]!;
    await apiUser(base, 'jack', 'jack password');
    await signUpInApp(page, cloud.dispatcherUrl, 'ivy', 'correct horse');
    await page.getByRole('link', { name: 'Mail' }).click();
    await page.getByText('No mail yet').waitFor();
    await screenshot(page, 'mail-empty');

    await page.getByRole('button', { name: 'Compose' }).click();
    await compose({ to: 'ivy@localhost, nobody-here@localhost', subject: 'Quarterly plan', text: 'Hello both,\nthe plan is attached soon.' });
    await page.getByRole('dialog').getByRole('button', { name: 'Send' }).click();
    // An unknown local recipient is refused up front, beside the addresses.
    const toError = page.getByRole('dialog').locator('.field', { has: page.getByLabel('To') }).locator('.field-error');
    await toError.waitFor();
    expect(await toError.textContent()).to.contain('nobody-here');
    await page.getByRole('dialog').getByLabel('To').fill('ivy@localhost, jack@localhost');
    await screenshot(page, 'mail-compose');
    await send();

    await message('Quarterly plan').waitFor();
    expect(await message('Quarterly plan').getAttribute('class')).to.contain('unread');
    await folderLink('Inbox').getByLabel('1 unread').waitFor();
    await screenshot(page, 'mail-inbox');

    await message('Quarterly plan').getByRole('link').click();
    await page.getByRole('heading', { name: 'Quarterly plan' }).waitFor();
    await page.getByText('the plan is attached soon.').waitFor();
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    expect(await page.getByRole('dialog').getByLabel('To').inputValue()).to.equal('ivy@localhost');
    expect(await page.getByRole('dialog').getByLabel('Subject').inputValue()).to.equal('Re: Quarterly plan');
    await page.getByRole('dialog').getByLabel('Message').press('Control+Home');
    await page.getByRole('dialog').getByLabel('Message').pressSequentially('Sounds good.');
    await send();

    await page.getByRole('button', { name: 'Forward' }).click();
    await compose({ to: 'jack@localhost' });
    const attachment = Buffer.from('%PDF-1.1 plan figures\n');
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('dialog').getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles([{ name: 'figures.pdf', mimeType: 'application/pdf', buffer: attachment }]);
    await page.getByRole('dialog').getByText('figures.pdf').waitFor();
    await send();

    await page.getByRole('link', { name: 'Back' }).click();
    await message('Re: Quarterly plan').waitFor();
    await folderLink('Sent').click();
    await message('Fwd: Quarterly plan').waitFor();
    await message('Re: Quarterly plan').waitFor();

    // Jack sees the first message and the forward, with the attachment byte for byte.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').fill('jack');
    await page.getByLabel('Password').fill('jack password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Mail' }).click();
    await message('Quarterly plan').waitFor();
    await message('Fwd: Quarterly plan').getByRole('link').click();
    await page.getByRole('heading', { name: 'Fwd: Quarterly plan' }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: /figures\.pdf/ }).click();
    expect(readFileSync(await (await download).path()).equals(attachment)).to.equal(true);
    await screenshot(page, 'mail-message');

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await message('Quarterly plan').waitFor();
    await message('Fwd: Quarterly plan').waitFor({ state: 'detached' });
    await folderLink('Trash').click();
    await message('Fwd: Quarterly plan').getByRole('link').click();
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.getByText('Nothing in Trash').waitFor();
    await folderLink('Inbox').click();
    await message('Fwd: Quarterly plan').waitFor();
    await page.setViewportSize({ width: 390, height: 780 });
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).to.equal(0);
    await screenshot(page, 'phone-mail');
  });

  it('shows HTML mail in a sandbox with remote content blocked, and the delivery state of outside mail', async () => {
    let remoteHits = 0;
    tracker = createServer((_req, res) => { remoteHits++; res.end('x'); });
    await new Promise<void>((resolve) => tracker!.listen(0, '127.0.0.1', resolve));
    const trackerUrl = `http://127.0.0.1:${(tracker.address() as { port: number }).port}/pixel.png`;

    const base = cloud.frontendUrls[0]!;
    const cookie = await apiUser(base, 'kim', 'kim password');
    await signUpInApp(page, cloud.dispatcherUrl, 'lee', 'correct horse');
    // The Inbox is open before the message arrives: it shows up with no click (the list refreshes).
    await page.getByRole('link', { name: 'Mail' }).click();
    await page.getByText('No mail yet').waitFor();
    const sent = await fetch(`${base}/api/mail/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({
        to: ['lee@localhost'], subject: 'Big news', text: 'Big news, in plain words.',
        html: `<h1>Big news</h1><p>Formatted.</p><img src="${trackerUrl}" alt="tracker"><script>parent.document.title='pwned'</script>`,
      }),
    });
    expect(sent.status, await sent.clone().text()).to.equal(201);

    await message('Big news').waitFor({ timeout: MAIL_REFRESH_WAIT_MS });
    await folderLink('Inbox').getByLabel('1 unread').waitFor();
    await message('Big news').getByRole('link').click();
    const frame = page.frameLocator('iframe.html-frame');
    await frame.getByRole('heading', { name: 'Big news' }).waitFor();
    expect(await page.locator('iframe.html-frame').getAttribute('sandbox')).to.not.contain('allow-scripts');
    expect(remoteHits).to.equal(0);
    expect(await page.title()).to.not.equal('pwned');
    await screenshot(page, 'mail-html');
    await page.getByRole('button', { name: 'Show plain text' }).click();
    await page.getByText('Big news, in plain words.').waitFor();

    await page.getByRole('button', { name: 'Compose' }).click();
    await compose({ to: 'someone@example.com', subject: 'Outside', text: 'To another domain.' });
    await send();
    await folderLink('Sent').click();
    await message('Outside').getByRole('link').click();
    const delivery = page.getByRole('region', { name: 'Delivery to outside addresses' });
    await delivery.getByText('someone@example.com').waitFor();
    expect(await delivery.locator('.delivery-state').textContent()).to.be.oneOf(['Waiting to be sent', 'Retrying', 'Delivered', 'Could not be delivered']);
    await screenshot(page, 'mail-sent-delivery');
    expect(remoteHits).to.equal(0);
  });

  it('pages through a long Inbox, newest first', async () => {
    const base = cloud.frontendUrls[0]!;
    const cookie = await apiUser(base, 'nia', 'nia password');
    await signUpInApp(page, cloud.dispatcherUrl, 'oto', 'correct horse');
    for (let i = 1; i <= 27; i++) {
      const sent = await fetch(`${base}/api/mail/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ to: ['oto@localhost'], subject: `Note ${String(i).padStart(2, '0')}`, text: `number ${i}` }),
      });
      expect(sent.status).to.equal(201);
    }
    await page.getByRole('link', { name: 'Mail' }).click();
    await message('Note 27').waitFor();
    const subjects = () => page.locator('li[data-message-subject]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message-subject')));
    const first = await subjects();
    expect(first).to.have.length(25);
    expect(first[0]).to.equal('Note 27');
    expect(first[24]).to.equal('Note 03');
    expect(await page.getByRole('button', { name: 'Newer' }).isDisabled()).to.equal(true);
    await folderLink('Inbox').getByLabel('27 unread').waitFor();

    await page.getByRole('button', { name: 'Older' }).click();
    await message('Note 01').waitFor();
    expect(await subjects()).to.deep.equal(['Note 02', 'Note 01']);
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).to.equal(true);
    await page.getByRole('button', { name: 'Newer' }).click();
    await message('Note 27').waitFor();
    expect(await subjects()).to.have.length(25);
  });
});
