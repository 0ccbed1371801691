/**
 * The app under its Content-Security-Policy (docs/security.md, "Web hardening"): a user signs
 * up, reads an HTML message, composes, uploads and previews an image and a video, and an
 * operator opens the admin console, with not one policy violation or script error on the way;
 * and another site's page that frames the app gets nothing. Over HTTPS (conf `https`) the same
 * app works in a browser with a Secure session cookie.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { makeSelfSignedCert } from '../support/self-signed-cert.js';
import { openBrowser, screenshot, settled, signInInApp, signUpInApp, startBrowserCloud, UI_TIMEOUT_MS, type BrowserCloud } from './browser-cloud.js';

/** A 1×1 PNG. */
const PIXEL_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
/** How long the test clip records: a few frames are enough for a decoder to show a picture. */
const CLIP_RECORDING_MS = 600;

/** What the page reported against the policy, and any script error. */
interface Problems {
  violations: string[];
  errors: string[];
}

/**
 * Collects `securitypolicyviolation` events of every frame (through a binding the page cannot
 * forge past the policy: init scripts run before the app's own), console lines the browser
 * writes when it refuses something, and uncaught page errors.
 */
async function watchForProblems(context: BrowserContext, page: Page): Promise<Problems> {
  const problems: Problems = { violations: [], errors: [] };
  await context.exposeBinding('pennReportViolation', (_source, text: string) => { problems.violations.push(text); });
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
    window.pennReportViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' in ' + e.documentURI);
  });`);
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.violations.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.errors.push(err.message));
  return problems;
}

/** A short VP8 WebM made by the browser itself (a canvas recorded), as bytes. */
async function recordClip(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async (recordingMs: number) => {
    const w = globalThis as any;
    const canvas = w.document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const g = canvas.getContext('2d');
    const recorder = new w.MediaRecorder(canvas.captureStream(15), { mimeType: 'video/webm;codecs=vp8' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e: { data: Blob }) => chunks.push(e.data);
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    let frame = 0;
    const draw = (): void => {
      g.fillStyle = frame++ % 2 === 0 ? '#c00' : '#00c';
      g.fillRect(0, 0, 64, 48);
    };
    draw();
    recorder.start();
    const timer = setInterval(draw, 40);
    await new Promise((resolve) => setTimeout(resolve, recordingMs));
    clearInterval(timer);
    recorder.stop();
    await stopped;
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return w.btoa(text) as string;
  }, CLIP_RECORDING_MS);
  return Buffer.from(base64, 'base64');
}

describe('browser: the app under its Content-Security-Policy', function () {
  this.timeout(240_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;
  let framer: Server | null = null;

  beforeEach(async () => {
    cloud = await startBrowserCloud({ frontends: 1, admins: ['operator'] });
  });

  afterEach(async () => {
    await context?.close();
    if (framer !== null) await new Promise((resolve) => framer!.close(resolve));
    framer = null;
    killAllRoles();
    cleanupTempDirs();
  });

  const row = (name: string) => page.locator(`tr[data-entry-name="${name}"]`);
  const message = (subject: string) => page.locator(`li[data-message-subject="${subject}"]`);

  it('signs up, reads HTML mail, composes, previews an image and a video, opens the admin console: no violation', async () => {
    ({ context, page } = await openBrowser());
    const clip = await recordClip(page);
    expect(clip.subarray(0, 4).toString('hex'), 'a WebM (EBML) file').to.equal('1a45dfa3');
    const problems = await watchForProblems(context, page);

    await signUpInApp(page, cloud.dispatcherUrl, 'carol', 'correct horse');
    const origin = new URL(page.url()).origin;
    expect(origin).to.equal(cloud.frontendUrls[0]);

    // HTML mail: its own inline styles and data: images apply inside its frame.
    const sent = await page.request.post(`${origin}/api/mail/send`, {
      data: {
        to: ['carol@localhost'], subject: 'Styled news', text: 'Styled news, plain.',
        html: `<h1>Styled news</h1><p id="styled" style="color: rgb(255, 0, 0)">Red</p><img id="inline" alt="dot" src="data:image/png;base64,${PIXEL_PNG_BASE64}">`,
      },
    });
    expect(sent.status(), await sent.text()).to.equal(201);
    await page.getByRole('link', { name: 'Mail' }).click();
    await message('Styled news').getByRole('link').click();
    const frame = page.frameLocator('iframe.html-frame');
    await frame.getByRole('heading', { name: 'Styled news' }).waitFor();
    expect(await frame.locator('#styled').evaluate((el: any) => el.ownerDocument.defaultView.getComputedStyle(el).color)).to.equal('rgb(255, 0, 0)');
    await frame.locator('#inline').evaluate((img: any) => img.decode());
    expect(await frame.locator('#inline').evaluate((img: any) => img.naturalWidth)).to.equal(1);

    await page.getByRole('button', { name: 'Compose' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('To').fill('carol@localhost');
    await dialog.getByLabel('Subject').fill('Note to self');
    await dialog.getByLabel('Message').fill('Written in the app.');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('navigation').getByRole('link', { name: /^Sent/ }).click();
    await message('Note to self').waitFor();

    await page.getByRole('link', { name: 'Drive' }).click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload files' }).click();
    await (await chooser).setFiles([
      { name: 'pixel.png', mimeType: 'image/png', buffer: Buffer.from(PIXEL_PNG_BASE64, 'base64') },
      { name: 'clip.webm', mimeType: 'video/webm', buffer: clip },
    ]);
    await row('pixel.png').waitFor();
    await row('clip.webm').waitFor();
    await row('pixel.png').getByRole('button', { name: /^pixel\.png/ }).click();
    const image = page.getByRole('dialog', { name: 'pixel.png' }).getByRole('img', { name: 'pixel.png' });
    await image.evaluate((img: any) => img.decode());
    expect(await image.evaluate((img: any) => img.naturalWidth)).to.equal(1);
    await page.keyboard.press('Escape');
    await row('clip.webm').getByRole('button', { name: /^clip\.webm/ }).click();
    const video = page.getByRole('dialog', { name: 'clip.webm' }).locator('video');
    const size = await video.evaluate(async (v: any, waitMs: number) => {
      if (v.readyState < 2) {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no frame after ${waitMs} ms (error ${v.error?.code})`)), waitMs);
          v.addEventListener('loadeddata', () => { clearTimeout(timer); resolve(null); }, { once: true });
          v.addEventListener('error', () => { clearTimeout(timer); reject(new Error(`media error ${v.error?.code}`)); }, { once: true });
        });
      }
      return { width: v.videoWidth, height: v.videoHeight };
    }, UI_TIMEOUT_MS);
    expect(size).to.deep.equal({ width: 64, height: 48 });
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInInApp(page, cloud.dispatcherUrl, 'operator', 'correct horse');
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Admin console' }).waitFor();
    await page.locator('tr[data-node-id="kvnode-0"]').waitFor();
    await settled(page);
    await screenshot(page, 'csp-admin');

    expect(problems.violations, 'policy violations').to.deep.equal([]);
    expect(problems.errors, 'script errors').to.deep.equal([]);

    // The watch itself works: an image from an origin the policy does not name is reported.
    await page.evaluate(`document.body.appendChild(Object.assign(document.createElement('img'), { src: 'http://127.0.0.2:9/elsewhere.png' }))`);
    const seen = Date.now();
    const reported = (): boolean => problems.violations.some((v) => v.startsWith('img-src blocked http://127.0.0.2:9/elsewhere.png'));
    while (!reported() && Date.now() - seen < UI_TIMEOUT_MS) await page.waitForTimeout(50);
    expect(reported(), problems.violations.join('\n')).to.equal(true);
    expect(problems.violations.some((v) => v.startsWith('console:') && v.includes('elsewhere.png')), 'the console line too').to.equal(true);
  });

  it('another site\'s page that frames the app gets an error page, not the app', async () => {
    const appUrl = `${cloud.frontendUrls[0]!}/signin`;
    framer = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>Framer</title><h1>Framer</h1><iframe id="app" src="${appUrl}"></iframe>`);
    });
    await new Promise<void>((resolve) => framer!.listen(0, '127.0.0.1', resolve));
    ({ context, page } = await openBrowser());
    const refusals: string[] = [];
    page.on('console', (m) => { if (/frame-ancestors/.test(m.text())) refusals.push(m.text()); });
    const refused = page.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), timeout: UI_TIMEOUT_MS });
    await page.goto(`http://localhost:${(framer.address() as { port: number }).port}/`);
    await refused;
    expect(refusals.join('\n')).to.contain("frame-ancestors 'none'");
    const child = page.frames().find((f) => f !== page.mainFrame())!;
    expect(child, 'the iframe').to.not.equal(undefined);
    // The blocked frame shows the browser's error page: the app's sign-in never rendered.
    expect(await child.locator('text=Sign in').count()).to.equal(0);
    expect(child.url()).to.not.equal(appUrl);
  });
});

describe('browser: the app over HTTPS (conf https, a self-signed certificate)', function () {
  this.timeout(180_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;

  beforeEach(async () => {
    const cert = makeSelfSignedCert();
    cloud = await startBrowserCloud({ frontends: 1, https: { keyFile: cert.keyFile, certFile: cert.certFile } });
  });

  afterEach(async () => {
    await context?.close();
    killAllRoles();
    cleanupTempDirs();
  });

  it('signs up through the https dispatcher, holds a Secure cookie, and uploads with no violation', async () => {
    ({ context, page } = await openBrowser(undefined, { ignoreHTTPSErrors: true }));
    const problems = await watchForProblems(context, page);
    expect(cloud.dispatcherUrl).to.match(/^https:/);
    await signUpInApp(page, cloud.dispatcherUrl, 'hana', 'correct horse');
    expect(page.url().startsWith(`${cloud.frontendUrls[0]!}/`), page.url()).to.equal(true);
    const cookies = await context.cookies(cloud.frontendUrls[0]!);
    const session = cookies.find((c) => c.name === 'penncloud_session');
    expect(session, 'the session cookie').to.not.equal(undefined);
    expect(session!.secure).to.equal(true);
    expect(session!.httpOnly).to.equal(true);
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload files' }).click();
    await (await chooser).setFiles([{ name: 'pixel.png', mimeType: 'image/png', buffer: Buffer.from(PIXEL_PNG_BASE64, 'base64') }]);
    await page.locator('tr[data-entry-name="pixel.png"]').waitFor();
    expect(problems.violations, 'policy violations').to.deep.equal([]);
    expect(problems.errors, 'script errors').to.deep.equal([]);
  });
});
