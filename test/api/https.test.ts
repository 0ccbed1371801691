/**
 * A cloud with `"https"` in its configuration, driven by curl trusting only the test's
 * self-signed certificate: the dispatcher redirects to https frontends, sign-up, log-in, upload
 * and download work through it, the session cookie is Secure, and every reply carries HSTS.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, tempDir } from '../support/roles.js';
import { makeSelfSignedCert, type TestCert } from '../support/self-signed-cert.js';
import { closeKvClients, startCloud, type Cloud } from './cloud.js';

/** One curl run; it talks to local processes, so anything longer is a hang. */
const CURL_TIMEOUT_MS = 30_000;

interface CurlResult {
  code: number;
  /** Every response head curl saw (-D), redirects included. */
  heads: string;
  body: Buffer;
  stderr: string;
}

/** Runs curl with `args` plus -sS and a head dump; never throws on curl's own failure. */
function curl(args: string[]): Promise<CurlResult> {
  const dir = tempDir('penncloud-curl-');
  const headFile = join(dir, 'heads.txt');
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', String(CURL_TIMEOUT_MS / 1000), '-D', headFile, ...args],
      { encoding: 'buffer', timeout: CURL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        let heads = '';
        try { heads = readFileSync(headFile, 'latin1'); } catch { /* curl failed before any reply */ }
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        resolve({ code, heads, body: stdout, stderr: stderr.toString() });
      });
  });
}

/** The value of `name` in the last response head curl saw (the final reply). */
function lastHeader(heads: string, name: string): string[] {
  const blocks = heads.split(/\r\n\r\n/).filter((b) => b.startsWith('HTTP/'));
  const last = blocks[blocks.length - 1] ?? '';
  return last.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());
}

describe('api: HTTPS from conf (real frontend and dispatcher, curl)', function () {
  this.timeout(120_000);
  let cert: TestCert;
  let cloud: Cloud;
  let jar: string;

  before(async () => {
    cert = makeSelfSignedCert();
    cloud = await startCloud({ frontends: 1, dispatcher: true, https: { keyFile: cert.keyFile, certFile: cert.certFile } });
    jar = join(tempDir('penncloud-jar-'), 'cookies.txt');
  });

  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('publishes https URLs; the dispatcher redirects to the frontend over https with HSTS on both', async () => {
    expect(cloud.dispatcherUrl).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cloud.urls[0]).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    let redirect: CurlResult;
    // Until the first heartbeat arrives the dispatcher answers 503; a heartbeat comes every second.
    const deadline = Date.now() + 10_000;
    do {
      redirect = await curl(['--cacert', cert.certFile, `${cloud.dispatcherUrl!}/drive?x=1`]);
    } while (/^HTTP\/1\.1 503/.test(redirect.heads) && Date.now() < deadline);
    expect(redirect.code, redirect.stderr).to.equal(0);
    expect(redirect.heads).to.match(/^HTTP\/1\.1 301/);
    expect(lastHeader(redirect.heads, 'location')).to.deep.equal([`${cloud.urls[0]!}/drive?x=1`]);
    expect(lastHeader(redirect.heads, 'strict-transport-security')).to.deep.equal(['max-age=31536000']);

    const page = await curl(['--cacert', cert.certFile, '-L', `${cloud.dispatcherUrl!}/`]);
    expect(page.code, page.stderr).to.equal(0);
    expect(lastHeader(page.heads, 'strict-transport-security')).to.deep.equal(['max-age=31536000']);
    expect(page.body.toString()).to.contain('<title>PennCloud</title>');
    // The app's page names the dispatcher by its https URL, and the policy lets its icon load.
    expect(page.body.toString()).to.contain(`<meta name="penncloud-dispatcher" content="${cloud.dispatcherUrl!}">`);
    expect(lastHeader(page.heads, 'content-security-policy')[0]).to.contain(`img-src 'self' ${cloud.dispatcherUrl!}`);
  });

  it('signs up and logs in (Secure cookie) through the dispatcher, uploads and downloads, with curl --cacert', async () => {
    const via = cloud.dispatcherUrl!;
    const json = ['-H', 'Content-Type: application/json'];
    const account = JSON.stringify({ username: 'tess', password: 'correct horse' });
    const signUp = await curl(['--cacert', cert.certFile, '-L', '--post301', ...json, '-d', account, `${via}/api/users`]);
    expect(signUp.code, signUp.stderr).to.equal(0);
    expect(signUp.heads).to.match(/HTTP\/1\.1 201/);

    const logIn = await curl(['--cacert', cert.certFile, '-L', '--post301', '-c', jar, ...json, '-d', account, `${via}/api/session`]);
    expect(logIn.code, logIn.stderr).to.equal(0);
    const cookies = lastHeader(logIn.heads, 'set-cookie');
    expect(cookies).to.have.length(1);
    expect(cookies[0]).to.match(/^penncloud_session=[^;]+;/);
    expect(cookies[0]!.split(/;\s*/)).to.include.members(['Secure', 'HttpOnly', 'SameSite=Lax']);
    expect(lastHeader(logIn.heads, 'strict-transport-security')).to.deep.equal(['max-age=31536000']);

    // curl follows a 301 for a PUT without its body; a browser's app is on the frontend by
    // then anyway: upload where the dispatcher sends us.
    const where = await curl(['--cacert', cert.certFile, `${via}/`]);
    const frontend = new URL(lastHeader(where.heads, 'location')[0]!).origin;
    expect(frontend).to.equal(cloud.urls[0]);
    const file = join(tempDir('penncloud-upload-'), 'notes.txt');
    const content = 'over TLS, all the way\n'.repeat(2000);
    writeFileSync(file, content);
    const upload = await curl(['--cacert', cert.certFile, '-L', '-b', jar, '-X', 'PUT', '-H', 'X-PennCloud-Request: 1',
      '--data-binary', `@${file}`, `${frontend}/api/files/notes.txt`]);
    expect(upload.code, upload.stderr).to.equal(0);
    expect(upload.heads).to.match(/HTTP\/1\.1 201/);

    const download = await curl(['--cacert', cert.certFile, '-L', '-b', jar, `${via}/api/files/notes.txt`]);
    expect(download.code, download.stderr).to.equal(0);
    expect(download.heads).to.match(/HTTP\/1\.1 200/);
    expect(download.body.length, download.heads).to.equal(content.length);
    expect(download.body.toString() === content, "the same bytes").to.equal(true);
    expect(lastHeader(download.heads, 'strict-transport-security')).to.deep.equal(['max-age=31536000']);
  });

  it('refuses what is not HTTPS with a trusted certificate', async () => {
    const untrusted = await curl([`${cloud.urls[0]!}/healthz`]);
    expect(untrusted.code, 'curl: peer certificate cannot be authenticated').to.equal(60);
    const plain = await curl([`${cloud.urls[0]!.replace('https:', 'http:')}/healthz`]);
    expect(plain.code, 'no reply in the clear').to.not.equal(0);
    expect(plain.heads).to.equal('');
  });
});
