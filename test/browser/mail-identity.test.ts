import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles, startRole } from '../support/roles.js';
import { python } from '../mail/mail-clients.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, type BrowserCloud } from './browser-cloud.js';

/** One message over SMTP without logging in; prints OK or the refusal. */
const SMTPLIB_SEND = `
import json, smtplib, sys
a = json.loads(sys.stdin.read())
s = smtplib.SMTP('127.0.0.1', a['port'], timeout=30)
s.sendmail(a['from'], a['to'], a['data'].encode('utf-8'))
s.quit()
print('OK')
`;

describe('browser: the webmail warns about a sender that claims a local address without logging in', function () {
  this.timeout(240_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    cloud = await startBrowserCloud({ frontends: 1 });
    await startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]);
    ({ context, page } = await openBrowser());
  });
  after(async () => {
    await context?.close();
    killAllRoles();
    cleanupTempDirs();
  });

  it('shows the warning above the body of a marked message, and none on an honest one', async () => {
    const port = (JSON.parse(readFileSync(cloud.conf, 'utf8')) as { smtp: { port: number } }).smtp.port;
    await signUpInApp(page, cloud.dispatcherUrl, 'pat', 'correct horse');
    const send = async (from: string, subject: string): Promise<void> => {
      const data = [`From: ${from}`, 'To: pat@localhost', `Subject: ${subject}`, '', `This is ${subject}.`, ''].join('\r\n');
      const result = await python(SMTPLIB_SEND, { port, from: /<(.*)>/.exec(from)![1], to: ['pat@localhost'], data });
      expect(result.stdout.trim(), result.stderr).to.equal('OK');
    };
    await send('Operator <operator@localhost>', 'Reset your password');
    await send('Friend <friend@example.org>', 'Lunch');

    await page.getByRole('link', { name: 'Mail' }).click();
    await page.locator('li[data-message-subject="Reset your password"]').getByRole('link').click();
    const warning = page.getByRole('alert').filter({ hasText: 'did not log in' });
    await warning.waitFor();
    expect(await warning.textContent()).to.contain('sender claims a local address but did not log in');
    const body = page.locator('.message-body');
    await body.getByText('This is Reset your password.').waitFor();
    const [w, b] = [await warning.boundingBox(), await body.boundingBox()];
    expect(w!.y + w!.height, 'the warning is above the body').to.be.at.most(b!.y);
    await screenshot(page, 'mail-sender-warning');

    await page.getByRole('link', { name: 'Back' }).click();
    await page.locator('li[data-message-subject="Lunch"]').getByRole('link').click();
    await page.locator('.message-body').getByText('This is Lunch.').waitFor();
    expect(await page.locator('.message-warning').count()).to.equal(0);
  });
});
