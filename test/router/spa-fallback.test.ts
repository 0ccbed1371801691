import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from '../../lib/router/router.js';
import { fillPageMeta, StaticController } from '../../lib/controllers/static-controller.js';
import { createLogger } from '../../lib/protocol/log.js';
import { cleanupTempDirs, tempDir } from '../support/roles.js';
import { startServer, type RunningServer } from '../support/http-harness.js';

const PAGE = '<!doctype html><meta name="penncloud-dispatcher" content=""><meta name="penncloud-other" content=""><div id="app"></div>';

describe('router: the single-page app fallback', () => {
  let running: RunningServer;
  let plain: RunningServer;

  before(async () => {
    const root = join(tempDir(), 'site');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), PAGE);
    writeFileSync(join(root, 'assets', 'app-5FQ2ZK3B.js'), 'console.log(1)');
    const withMeta = new Router(createLogger('test-spa'));
    withMeta.fallback(new StaticController(root, { pageMeta: { dispatcher: 'http://127.0.0.1:9000' } }).serve);
    running = await startServer(withMeta.handle);
    const without = new Router(createLogger('test-spa-plain'));
    without.fallback(new StaticController(root).serve);
    plain = await startServer(without.handle);
  });
  after(async () => {
    await running.close();
    await plain.close();
    cleanupTempDirs();
  });

  for (const path of ['/drive/a/b', '/mail/inbox', '/admin', '/drive/With%20Space/%C3%A9t%C3%A9']) {
    it(`serves the app's page, not cached, for the in-app path ${path}`, async () => {
      const res = await fetch(`${running.url}${path}`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).to.equal('no-cache');
      expect(await res.text()).to.contain('<div id="app">');
    });
  }

  it('fills the dispatcher meta tag and leaves tags it has no value for', async () => {
    for (const path of ['/', '/index.html', '/drive']) {
      const text = await (await fetch(`${running.url}${path}`)).text();
      expect(text).to.contain('<meta name="penncloud-dispatcher" content="http://127.0.0.1:9000">');
      expect(text).to.contain('<meta name="penncloud-other" content="">');
    }
  });

  it('answers a repeated request for the page with 304 by its ETag', async () => {
    const first = await fetch(`${running.url}/mail/inbox`);
    await first.text();
    const etag = first.headers.get('etag')!;
    expect(etag).to.match(/^"[0-9a-f]{32}"$/);
    const again = await fetch(`${running.url}/drive`, { headers: { 'if-none-match': etag } });
    expect(again.status).to.equal(304);
  });

  it('answers HEAD for an in-app path with the length of the page and no body', async () => {
    const res = await fetch(`${running.url}/drive/x`, { method: 'HEAD' });
    expect(res.status).to.equal(200);
    expect(Number(res.headers.get('content-length'))).to.be.greaterThan(PAGE.length);
  });

  it('serves the page without filling when no meta values are configured', async () => {
    const res = await fetch(`${plain.url}/drive/a`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-cache');
    expect(await res.text()).to.equal(PAGE);
  });

  it('still answers 404 for missing files with an extension and for /api/ paths', async () => {
    expect((await fetch(`${running.url}/assets/app-MISSING1.js`)).status).to.equal(404);
    expect((await fetch(`${running.url}/favicon.ico`)).status).to.equal(404);
    const api = await fetch(`${running.url}/api/unknown/path`);
    expect(api.status).to.equal(404);
    expect(api.headers.get('content-type')).to.match(/^application\/json/);
  });

  it('still serves real files as files, hashed ones with a long cache life', async () => {
    const res = await fetch(`${running.url}/assets/app-5FQ2ZK3B.js`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(await res.text()).to.equal('console.log(1)');
  });

  it('escapes what it writes into the page', () => {
    expect(fillPageMeta('<meta name="penncloud-x" content="">', { x: '"><script>' }))
      .to.equal('<meta name="penncloud-x" content="&#34;&#62;&#60;script&#62;">');
  });
});
