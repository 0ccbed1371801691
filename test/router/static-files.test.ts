import { expect } from 'chai';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from '../../lib/router/router.js';
import { StaticController } from '../../lib/controllers/static-controller.js';
import { createLogger } from '../../lib/protocol/log.js';
import { cleanupTempDirs, tempDir } from '../support/roles.js';
import { parseRawReply, rawExchange, startServer, type RunningServer } from '../support/http-harness.js';

describe('router: static files', () => {
  let running: RunningServer;
  let root: string;
  const bytes = Buffer.alloc(1000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256;

  before(async () => {
    const base = tempDir();
    root = join(base, 'site');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<h1>home</h1>');
    writeFileSync(join(root, 'data.bin'), bytes);
    writeFileSync(join(root, 'assets', 'app-5FQ2ZK3B.js'), 'console.log(1)');
    writeFileSync(join(root, 'notes.txt'), 'plain');
    writeFileSync(join(base, 'secret.txt'), 'outside the root');
    symlinkSync(join(base, 'secret.txt'), join(root, 'link-out.txt'));
    const router = new Router(createLogger('test-static'));
    router.fallback(new StaticController(root).serve);
    running = await startServer(router.handle);
  });
  after(async () => {
    await running.close();
    cleanupTempDirs();
  });

  it('serves a file with its content type, length, ETag and Last-Modified', async () => {
    const res = await fetch(`${running.url}/notes.txt`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    expect(res.headers.get('content-length')).to.equal('5');
    expect(res.headers.get('etag')).to.match(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.headers.get('last-modified')).to.match(/GMT$/);
    expect(res.headers.get('accept-ranges')).to.equal('bytes');
    expect(await res.text()).to.equal('plain');
  });

  it('serves index.html for the root', async () => {
    const res = await fetch(`${running.url}/`);
    expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(await res.text()).to.equal('<h1>home</h1>');
  });

  it('answers If-None-Match and If-Modified-Since with 304 and no body', async () => {
    const first = await fetch(`${running.url}/data.bin`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    const byTag = await fetch(`${running.url}/data.bin`, { headers: { 'if-none-match': `W/${etag}, "other"` } });
    expect(byTag.status).to.equal(304);
    expect((await byTag.arrayBuffer()).byteLength).to.equal(0);
    const byDate = await fetch(`${running.url}/data.bin`, { headers: { 'if-modified-since': first.headers.get('last-modified')! } });
    expect(byDate.status).to.equal(304);
    const changed = await fetch(`${running.url}/data.bin`, { headers: { 'if-none-match': '"stale"' } });
    expect(changed.status).to.equal(200);
    expect(Buffer.from(await changed.arrayBuffer()).equals(bytes)).to.equal(true);
  });

  it('serves a single byte range with 206 and Content-Range', async () => {
    const res = await fetch(`${running.url}/data.bin`, { headers: { range: 'bytes=100-199' } });
    expect(res.status).to.equal(206);
    expect(res.headers.get('content-range')).to.equal('bytes 100-199/1000');
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(100, 200))).to.equal(true);
    const suffix = await fetch(`${running.url}/data.bin`, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(990))).to.equal(true);
  });

  it('answers a range past the end with 416 and the size', async () => {
    const res = await fetch(`${running.url}/data.bin`, { headers: { range: 'bytes=5000-' } });
    expect(res.status).to.equal(416);
    expect(res.headers.get('content-range')).to.equal('bytes */1000');
  });

  it('ignores Range when If-Range no longer matches', async () => {
    const res = await fetch(`${running.url}/data.bin`, { headers: { range: 'bytes=0-9', 'if-range': '"old"' } });
    expect(res.status).to.equal(200);
    expect((await res.arrayBuffer()).byteLength).to.equal(1000);
  });

  it('gives hashed assets a long cache life and other files revalidation', async () => {
    const hashed = await fetch(`${running.url}/assets/app-5FQ2ZK3B.js`);
    expect(hashed.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(hashed.headers.get('content-type')).to.match(/javascript/);
    const plain = await fetch(`${running.url}/notes.txt`);
    expect(plain.headers.get('cache-control')).to.equal('no-cache');
  });

  const escapes = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/notes.txt%00.html',
    '/link-out.txt',
  ];
  for (const target of escapes) {
    it(`never serves a file outside the root: ${target}`, async () => {
      const raw = await rawExchange(running.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const reply = parseRawReply(raw);
      expect(reply.status).to.be.oneOf([400, 404]);
      expect(raw).to.not.contain('outside the root');
    });
  }

  it('keeps /api/ paths out of the files: JSON 404', async () => {
    const res = await fetch(`${running.url}/api/nothing`);
    expect(res.status).to.equal(404);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
  });

  it('gives 404 for a missing file and for POST to a file path', async () => {
    expect((await fetch(`${running.url}/missing.txt`)).status).to.equal(404);
    expect((await fetch(`${running.url}/notes.txt`, { method: 'POST', body: 'x' })).status).to.equal(404);
  });
});
