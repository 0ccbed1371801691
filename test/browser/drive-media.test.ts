import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupTempDirs, killAllRoles } from '../support/roles.js';
import { openBrowser, screenshot, signUpInApp, startBrowserCloud, type BrowserCloud } from './browser-cloud.js';

/** A 1×1 PNG. */
const PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** `seconds` of a 440 Hz tone as 8 kHz mono 16-bit PCM WAV. */
function toneWav(seconds: number): Buffer {
  const rate = 8000;
  const samples = rate * seconds;
  const out = Buffer.alloc(44 + samples * 2);
  out.write('RIFF', 0); out.writeUInt32LE(36 + samples * 2, 4); out.write('WAVE', 8);
  out.write('fmt ', 12); out.writeUInt32LE(16, 16); out.writeUInt16LE(1, 20); out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24); out.writeUInt32LE(rate * 2, 28); out.writeUInt16LE(2, 32); out.writeUInt16LE(16, 34);
  out.write('data', 36); out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000), 44 + i * 2);
  return out;
}

describe('browser: drive previews, drag and drop, phone width', function () {
  this.timeout(180_000);
  let cloud: BrowserCloud;
  let context: BrowserContext;
  let page: Page;

  beforeEach(async () => {
    cloud = await startBrowserCloud({ frontends: 1 });
  });

  afterEach(async () => {
    await context?.close();
    killAllRoles();
    cleanupTempDirs();
  });

  const row = (name: string) => page.locator(`tr[data-entry-name="${name}"]`);

  async function uploadByChooser(files: { name: string; mimeType: string; buffer: Buffer }[]): Promise<void> {
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload files' }).click();
    await (await chooser).setFiles(files);
    for (const f of files) await row(f.name).waitFor();
  }

  it('uploads dropped files and previews an image and seekable audio', async () => {
    ({ context, page } = await openBrowser());
    await signUpInApp(page, cloud.dispatcherUrl, 'erin', 'correct horse');

    // Files dropped anywhere on the drive screen upload into the open folder.
    const dropped = 'dropped from the desktop\n';
    await page.evaluate(`(() => {
      const data = new DataTransfer();
      data.items.add(new File([${JSON.stringify(dropped)}], 'dropped.txt', { type: 'text/plain' }));
      const zone = document.querySelector('.drop-zone');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      }
    })()`);
    await row('dropped.txt').waitFor();
    const download = page.waitForEvent('download');
    await row('dropped.txt').getByRole('link', { name: 'Download dropped.txt' }).click();
    expect(readFileSync(await (await download).path(), 'utf8')).to.equal(dropped);

    await uploadByChooser([
      { name: 'pixel.png', mimeType: 'image/png', buffer: PIXEL_PNG },
      { name: 'tone.wav', mimeType: 'audio/wav', buffer: toneWav(4) },
    ]);

    await row('pixel.png').getByRole('button', { name: /^pixel\.png/ }).click();
    const image = page.getByRole('dialog', { name: 'pixel.png' }).getByRole('img', { name: 'pixel.png' });
    await image.waitFor();
    await image.evaluate((img: any) => img.decode());
    expect(await image.evaluate((img: any) => img.naturalWidth)).to.equal(1);
    await page.keyboard.press('Escape');

    const ranges: number[] = [];
    page.on('response', (r) => { if (r.url().includes('/api/files/tone.wav')) ranges.push(r.status()); });
    await row('tone.wav').getByRole('button', { name: /^tone\.wav/ }).click();
    await page.getByRole('dialog', { name: 'tone.wav' }).locator('audio').waitFor();
    const position = await page.evaluate(`(async () => {
      const audio = document.querySelector('.preview audio');
      if (audio.readyState < 1) await new Promise((resolve) => audio.addEventListener('loadedmetadata', resolve, { once: true }));
      const seeked = new Promise((resolve) => audio.addEventListener('seeked', resolve, { once: true }));
      audio.currentTime = 3;
      await seeked;
      return { duration: audio.duration, currentTime: audio.currentTime };
    })()`) as { duration: number; currentTime: number };
    expect(position.duration).to.be.closeTo(4, 0.05);
    expect(position.currentTime).to.be.closeTo(3, 0.05);
    expect(ranges).to.include(206);
    await screenshot(page, 'drive-preview-audio');
    await page.keyboard.press('Escape');
  });

  it('stays readable at phone width', async () => {
    ({ context, page } = await openBrowser({ width: 390, height: 780 }));
    await page.goto(`${cloud.dispatcherUrl}/signin`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'phone-sign-in');
    await signUpInApp(page, cloud.dispatcherUrl, 'finn', 'correct horse');
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill('Holiday photos from the summer of 2024');
    await page.getByRole('button', { name: 'Create' }).click();
    await uploadByChooser([{ name: 'a-rather-long-file-name-for-a-small-screen.txt', mimeType: 'text/plain', buffer: Buffer.from('x') }]);
    await row('Holiday photos from the summer of 2024').waitFor();
    // Nothing is wider than the screen: no sideways scrolling.
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).to.equal(0);
    expect(await row('a-rather-long-file-name-for-a-small-screen.txt').getByRole('button', { name: 'Delete a-rather-long-file-name-for-a-small-screen.txt' }).isVisible()).to.equal(true);
    await screenshot(page, 'phone-drive');
    await page.getByRole('link', { name: 'Account of finn' }).click();
    await page.getByRole('heading', { name: 'Change password' }).waitFor();
    await screenshot(page, 'phone-account');
  });
});
