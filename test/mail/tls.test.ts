import { expect } from 'chai';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { cleanupTempDirs, killAllRoles, startRole, tempDir } from '../support/roles.js';
import { ApiClient, closeKvClients, startCloud } from '../api/cloud.js';
import { pop3Raw, python, run } from './mail-clients.js';

const PASSWORD = 'correct horse';

const POPLIB_STLS = `
import json, poplib, ssl, sys
a = json.loads(sys.stdin.read())
p = poplib.POP3('127.0.0.1', a['port'], timeout=30)
caps = p.capa()
ctx = ssl.create_default_context(cafile=a['ca'])
ctx.check_hostname = False
p.stls(context=ctx)
after = p.capa()
p.user('ann')
p.pass_(a['password'])
print(json.dumps({'before': 'STLS' in caps, 'after': 'STLS' in after, 'cipher': p.sock.cipher()[0], 'stat': list(p.stat())}))
p.quit()
`;

describe('mail transport: STARTTLS and STLS with a configured certificate', function () {
  this.timeout(180_000);
  afterEach(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('SMTP offers STARTTLS and takes mail over it; POP3 offers STLS and logs in over it', async () => {
    const dir = tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost']);
    expect(made.code, made.stderr).to.equal(0);
    const cloud = await startCloud({ mail: { domain: 'localhost' } });
    // The same cloud's configuration, with the certificate for both servers.
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as Record<string, any>;
    conf.smtp.tls = { keyFile: key, certFile: cert };
    conf.pop3.tls = { keyFile: key, certFile: cert };
    writeFileSync(cloud.conf, JSON.stringify(conf));
    await startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]);
    await startRole(['pop3', '--conf', cloud.conf, '--data', cloud.dataDir]);
    const ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', PASSWORD);

    const swaks = await run('swaks', ['--server', `127.0.0.1:${conf.smtp.port}`, '--tls', '--auth', 'PLAIN', '--auth-user', 'ann', '--auth-password', PASSWORD,
      '--from', 'ann@localhost', '--to', 'ann@localhost', '--header', 'Subject: over tls', '--body', 'secret']);
    expect(swaks.code, swaks.stdout + swaks.stderr).to.equal(0);
    expect(swaks.stdout).to.contain('STARTTLS').and.match(/TLS started/);
    const inbox = (await ann.request('GET', '/api/mail/folders/inbox')).json().messages;
    expect(inbox.map((m: { subject: string }) => m.subject)).to.include('over tls');

    const pop = await python(POPLIB_STLS, { port: conf.pop3.port, password: PASSWORD, ca: cert });
    expect(pop.code, pop.stderr).to.equal(0);
    const result = JSON.parse(pop.stdout) as { before: boolean; after: boolean; cipher: string; stat: number[] };
    expect(result.before).to.equal(true);
    expect(result.after, 'STLS is not offered again once secure').to.equal(false);
    expect(result.cipher).to.be.a('string').and.not.equal('');
    expect(result.stat[0]).to.equal(1);

    const plainCapa = await pop3Raw(conf.pop3.port, ['CAPA'], /\r\n\.\r\n/);
    expect(plainCapa).to.contain('\r\nSTLS\r\n');
  });

  it('passwords only over TLS: SMTP offers AUTH only after STARTTLS, POP3 refuses USER and PASS before STLS', async () => {
    const dir = tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost']);
    expect(made.code, made.stderr).to.equal(0);
    const cloud = await startCloud({ mail: { domain: 'localhost' } });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as Record<string, any>;
    conf.smtp.tls = { keyFile: key, certFile: cert };
    conf.pop3.tls = { keyFile: key, certFile: cert };
    writeFileSync(cloud.conf, JSON.stringify(conf));
    await startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]);
    await startRole(['pop3', '--conf', cloud.conf, '--data', cloud.dataDir]);
    await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', PASSWORD);

    const smtp = await python(SMTPLIB_EHLO_TLS, { port: conf.smtp.port });
    expect(smtp.code, smtp.stderr).to.equal(0);
    expect(JSON.parse(smtp.stdout)).to.deep.equal({ before: false, after: true });

    const plain = await pop3Raw(conf.pop3.port, ['CAPA', 'USER ann', `PASS ${PASSWORD}`, 'QUIT'], /signing off/);
    expect(plain).to.not.match(/\r\nUSER\r\n/).and.not.contain('SASL PLAIN');
    const refusals = plain.split('\r\n').filter((l) => l.startsWith('-ERR'));
    expect(refusals).to.deep.equal(['-ERR send STLS first: passwords are accepted only over TLS', '-ERR send STLS first: passwords are accepted only over TLS']);
  });
});

const SMTPLIB_EHLO_TLS = `
import json, smtplib, ssl, sys
a = json.loads(sys.stdin.read())
s = smtplib.SMTP('127.0.0.1', a['port'], timeout=30)
s.ehlo('client.example.org')
before = s.has_extn('auth')
s.starttls(context=ssl._create_unverified_context())
s.ehlo('client.example.org')
print(json.dumps({'before': before, 'after': s.has_extn('auth')}))
s.quit()
`;
