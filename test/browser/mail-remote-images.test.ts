/**
 * Remote images in HTML mail, in Chromium: hidden at first (the image server sees no request,
 * so a tracking pixel learns nothing), loaded once the reader asks for this message; the API
 * says which messages have them and the page's policy allows images only when asked.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, type BrowserCloud } from './browser-cloud.js';

/** A 1×1 PNG, the "pixel". */
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

describe('browser: remote images in HTML mail', function () {
  this.timeout(180_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;
  let images: Server;
  let hits = 0;
  let firstHit: (() => void) | null = null;

  before(async () => {
    images = createServer((_req, res) => {
      hits++;
      firstHit?.();
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PIXEL.length });
      res.end(PIXEL);
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    cloud = await startBrowserCloud({ frontends: 1 });
    ({ context, page } = await openBrowser());
  });
  after(async () => {
    await context?.close();
    images?.close();
    killAllRoles();
    cleanupTempDirs();
  });

  it('loads no remote image until the reader asks, then loads it', async () => {
    const pixelUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/open.png`;
    await signUpInApp(page, cloud.dispatcherUrl, 'zoe', 'correct horse');
    const status = await page.evaluate(async (src: string) => (await fetch('/api/mail/send', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: 'zoe@localhost', subject: 'Newsletter', text: 'Plain version', html: `<p>Big news</p><img src="${src}" alt="logo">` }),
    })).status, pixelUrl);
    expect(status).to.equal(201);
    const api = await page.evaluate(async () => {
      const list = await (await fetch('/api/mail/folders/inbox')).json() as { messages: { id: string }[] };
      const id = list.messages[0]!.id;
      const message = await (await fetch(`/api/mail/messages/${id}`)).json() as { remoteImages: boolean };
      const plain = (await fetch(`/api/mail/messages/${id}/html`)).headers.get('content-security-policy');
      const shown = (await fetch(`/api/mail/messages/${id}/html?images=1`)).headers.get('content-security-policy');
      return { remoteImages: message.remoteImages, plain, shown };
    });
    expect(api.remoteImages).to.equal(true);
    expect(api.plain).to.contain('img-src data:;');
    expect(api.shown).to.contain('img-src data: https: http:;');
    expect(api.shown).to.contain("default-src 'none'");

    await page.goto(`${cloud.dispatcherUrl}/mail/inbox`);
    await page.locator('[data-message-subject="Newsletter"] .message-link').click();
    const frame = page.frameLocator('iframe.html-frame');
    await frame.getByText('Big news').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByText('Remote images are hidden').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(hits).to.equal(0);

    const loaded = new Promise<void>((resolve) => { firstHit = resolve; });
    await page.getByRole('button', { name: 'Show remote images' }).click();
    await frame.getByText('Big news').waitFor({ timeout: UI_TIMEOUT_MS });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise((_r, reject) => { timer = setTimeout(() => reject(new Error('the image was never requested')), UI_TIMEOUT_MS); });
    await Promise.race([loaded, timedOut]).finally(() => clearTimeout(timer));
    expect(hits).to.equal(1);
  });
});
