/**
 * The mail list as people use it, in Chromium: the start of each text beside its subject, a
 * star that sticks, several messages selected and marked read or unread, or deleted at once.
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, type BrowserCloud } from './browser-cloud.js';

/** The webmail's fallback refresh (MAIL_REFRESH_MS in spa/src/mail/mail-page.tsx). */
const MAIL_REFRESH_FALLBACK_MS = 15_000;

describe('browser: stars, snippets and many messages at once in mail', function () {
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

  const row = (subject: string) => page.locator(`li[data-message-subject="${subject}"]`);

  it('shows snippets, keeps a star, and marks or deletes several selected messages', async () => {
    await signUpInApp(page, cloud.dispatcherUrl, 'xena', 'correct horse');
    const sent = await page.evaluate(async () => {
      const statuses: number[] = [];
      for (const [subject, text] of [['One', 'First text here.'], ['Two', 'Second text here.'], ['Three', 'Third text here.']]) {
        statuses.push((await fetch('/api/mail/send', {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: 'xena@localhost', subject, text }),
        })).status);
      }
      return statuses;
    });
    expect(sent).to.deep.equal([201, 201, 201]);
    await page.goto(`${cloud.dispatcherUrl}/mail/inbox`);
    await row('Three').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row('Two').locator('.message-snippet').textContent()).to.contain('Second text here.');

    await row('Two').getByRole('button', { name: 'Star “Two”' }).click();
    await row('Two').getByRole('button', { name: 'Unstar “Two”' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.reload();
    await row('Two').getByRole('button', { name: 'Unstar “Two”' }).waitFor({ timeout: UI_TIMEOUT_MS });

    await row('One').getByRole('checkbox').check();
    await row('Three').getByRole('checkbox').check();
    await page.getByText('2 messages selected').waitFor({ timeout: UI_TIMEOUT_MS });
    await screenshot(page, 'mail-selection');
    await page.getByRole('toolbar', { name: 'Selected messages' }).getByRole('button', { name: 'Mark read' }).click();
    await page.locator('.toast', { hasText: '2 messages marked read.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('li.unread[data-message-subject="One"]').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    expect(await page.locator('li.unread').count()).to.equal(1);
    expect(await page.locator('li.unread').getAttribute('data-message-subject')).to.equal('Two');

    await row('One').getByRole('checkbox').check();
    await row('Two').getByRole('checkbox').check();
    await page.getByRole('toolbar', { name: 'Selected messages' }).getByRole('button', { name: 'Delete' }).click();
    await page.locator('.toast', { hasText: '2 messages moved to Trash.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await row('One').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    expect(await page.locator('li[data-message-subject]').count()).to.equal(1);
    await page.getByRole('link', { name: /Trash/ }).first().click();
    await row('Two').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row('Two').getByRole('button', { name: 'Unstar “Two”' }).isVisible()).to.equal(true);
  });

  it('shows new mail in the open Inbox as it arrives, without waiting for the 15-second refresh', async () => {
    await page.goto(`${cloud.dispatcherUrl}/mail/inbox`);
    await row('Three').waitFor({ timeout: UI_TIMEOUT_MS });
    // Sent by someone else, from outside this page: only the page's own waiting can show it.
    const other = await fetch(`${cloud.frontendUrls[0]}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'yuri', password: 'correct horse' }) });
    expect(other.status).to.equal(201);
    const login = await fetch(`${cloud.frontendUrls[0]}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'yuri', password: 'correct horse' }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const sent = await fetch(`${cloud.frontendUrls[0]}/api/mail/send`, {
      method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ to: 'xena@localhost', subject: 'Fresh news', text: 'Just now.' }),
    });
    expect(sent.status).to.equal(201);
    const sentAt = Date.now();
    await row('Fresh news').waitFor({ timeout: UI_TIMEOUT_MS });
    const shownMs = Date.now() - sentAt;
    process.stdout.write(`      (new mail shown ${shownMs} ms after the send was acknowledged)\n`);
    // Well under the 15 s refresh: the long poll showed it, not the timer.
    expect(shownMs).to.be.below(MAIL_REFRESH_FALLBACK_MS - 5_000);
  });

  it('shows the conversation a message belongs to, and opens another of its messages', async () => {
    const made = await page.evaluate(async () => {
      const send = (body: Record<string, unknown>) => fetch('/api/mail/send', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const first = await send({ to: 'xena@localhost', subject: 'Lunch plan', text: 'Noon at the park?' });
      const inbox = (await (await fetch('/api/mail/folders/inbox')).json()) as { messages: { id: string; subject: string }[] };
      const original = inbox.messages.find((m) => m.subject === 'Lunch plan')!;
      const reply = await send({ to: 'xena@localhost', subject: 'Re: Lunch plan', text: 'Yes, bring sandwiches.', inReplyTo: original.id });
      return [first.status, reply.status];
    });
    expect(made).to.deep.equal([201, 201]);
    await page.goto(`${cloud.dispatcherUrl}/mail/inbox`);
    await page.locator('li[data-message-subject="Re: Lunch plan"] .message-link').click();
    const conversation = page.getByRole('navigation', { name: 'Conversation' });
    // The original and the reply (each in the Inbox and in Sent, as xena wrote to herself: one copy each counts).
    await conversation.getByText('2 messages in this conversation').waitFor({ timeout: UI_TIMEOUT_MS });
    await conversation.getByRole('link', { name: /Noon at the park/ }).first().click();
    await page.getByText('Noon at the park?').first().waitFor({ timeout: UI_TIMEOUT_MS });
    await screenshot(page, 'mail-conversation');
  });

  it('moves selected messages to another folder', async () => {
    await page.goto(`${cloud.dispatcherUrl}/mail/inbox`);
    await row('Three').waitFor({ timeout: UI_TIMEOUT_MS });
    await row('Three').getByRole('checkbox').check();
    await page.getByRole('toolbar', { name: 'Selected messages' }).getByLabel('Move to').selectOption('drafts');
    await page.locator('.toast', { hasText: '1 message moved to Drafts.' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await row('Three').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    await page.getByRole('link', { name: /Drafts/ }).click();
    await row('Three').waitFor({ timeout: UI_TIMEOUT_MS });
  });
});
