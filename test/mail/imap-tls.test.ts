import { expect } from 'chai';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cleanupTempDirs, killAllRoles, startRole, tempDir } from '../support/roles.js';
import { ApiClient, closeKvClients, startCloud } from '../api/cloud.js';
import { CLIENT_TIMEOUT_MS, python, run } from './mail-clients.js';

const PASSWORD = 'correct horse';

const IMAPLIB_STARTTLS = `
import imaplib, json, ssl, sys
a = json.loads(sys.stdin.read())
M = imaplib.IMAP4('127.0.0.1', a['port'], timeout=30)
before = list(M.capabilities)
ctx = ssl.create_default_context(cafile=a['ca'])
ctx.check_hostname = False
M.starttls(ssl_context=ctx)
after = list(M.capabilities)
M.login('ann', a['password'])
typ, data = M.select('INBOX')
print(json.dumps({'before': before, 'after': after, 'cipher': M.sock.cipher()[0], 'exists': data[0].decode()}))
M.logout()
`;

/** Writes `line` after the greeting on a raw connection and returns the first reply line. */
function firstReply(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no reply: ${text}`)); }, CLIENT_TIMEOUT_MS);
    socket.on('data', (d: Buffer) => {
      const greeted = text.includes('\r\n');
      text += d.toString('latin1');
      if (!greeted && text.includes('\r\n')) socket.write(`${line}\r\n`);
      const lines = text.split('\r\n');
      if (lines.length >= 3) {
        clearTimeout(timer);
        socket.destroy();
        resolve(lines[1]!);
      }
    });
    socket.on('error', reject);
  });
}

describe('imap: STARTTLS with a configured certificate', function () {
  this.timeout(180_000);
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('offers STARTTLS and LOGINDISABLED, refuses LOGIN before it, and logs in over TLS', async () => {
    const dir = tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost']);
    expect(made.code, made.stderr).to.equal(0);
    const cloud = await startCloud({ mail: { domain: 'localhost' } });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as Record<string, any>;
    conf.imap.tls = { keyFile: key, certFile: cert };
    writeFileSync(cloud.conf, JSON.stringify(conf));
    await startRole(['imap', '--conf', cloud.conf, '--data', cloud.dataDir]);
    await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', PASSWORD);

    expect(await firstReply(conf.imap.port, `a LOGIN ann "${PASSWORD}"`)).to.match(/^a NO \[PRIVACYREQUIRED\] send STARTTLS first/);
    const result = await python(IMAPLIB_STARTTLS, { port: conf.imap.port, password: PASSWORD, ca: cert });
    expect(result.code, result.stderr).to.equal(0);
    const r = JSON.parse(result.stdout) as { before: string[]; after: string[]; cipher: string; exists: string };
    expect(r.before).to.include.members(['STARTTLS', 'LOGINDISABLED']);
    expect(r.before).to.not.include('AUTH=PLAIN');
    expect(r.after).to.include('AUTH=PLAIN');
    expect(r.after, 'STARTTLS is not offered again once secure').to.not.include('STARTTLS');
    expect(r.cipher).to.be.a('string').and.not.equal('');
    expect(r.exists).to.equal('0');
  });
});
