import { expect } from 'chai';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, startRole, tempDir } from '../support/roles.js';
import { ApiClient, closeKvClients, startCloud, type Cloud } from '../api/cloud.js';
import { pop3Raw, python, run } from './mail-clients.js';

const PASSWORD = 'correct horse';
const MESSAGE_BYTES_MAX = 200_000;

interface Ports { smtp: number; pop3: number }

/** A message as a mail client would write it, with a line that needs dot-stuffing. */
function message(subject: string, body: string): string {
  return [`From: Sender <sender@example.org>`, 'To: ann@localhost', `Subject: ${subject}`, 'Message-ID: <m-' + subject.replace(/\W/g, '') + '@example.org>',
    'Date: Sat, 21 Nov 2026 10:00:00 +0000', '', body, ''].join('\r\n');
}

const SMTPLIB_SEND = `
import json, smtplib, sys
a = json.loads(sys.stdin.read())
s = smtplib.SMTP('127.0.0.1', a['port'], timeout=30)
try:
    s.ehlo('client.example.org')
    print('SIZE=' + str(s.esmtp_features.get('size', '')))
    if a.get('user'):
        s.login(a['user'], a['password'])
    try:
        refused = s.sendmail(a['from'], a['to'], a['data'].encode('latin-1'))
        print('OK ' + json.dumps(refused))
    except smtplib.SMTPRecipientsRefused as e:
        print('RCPT ' + json.dumps({k: [v[0], v[1].decode()] for k, v in e.recipients.items()}))
    except smtplib.SMTPDataError as e:
        print('DATA %d %s' % (e.smtp_code, e.smtp_error.decode()))
    except smtplib.SMTPSenderRefused as e:
        print('MAIL %d %s' % (e.smtp_code, e.smtp_error.decode()))
finally:
    s.quit()
`;

const POPLIB_SESSION = `
import json, poplib, sys
a = json.loads(sys.stdin.read())
p = poplib.POP3('127.0.0.1', a['port'], timeout=30)
p.user(a['user'])
p.pass_(a['password'])
out = {'stat': list(p.stat()), 'uidl': [u.decode() for u in p.uidl()[1]], 'list': [l.decode() for l in p.list()[1]]}
if a.get('retr'):
    out['retr'] = b'\\r\\n'.join(p.retr(a['retr'])[1]).decode('latin-1')
if a.get('top'):
    out['top'] = [l.decode('latin-1') for l in p.top(a['top'], 0)[1]]
for n in a.get('dele', []):
    p.dele(n)
if a.get('quit', True):
    p.quit()
else:
    p.sock.close()
print(json.dumps(out))
`;

describe('mail transport: SMTP in and POP3 out, with real clients', function () {
  this.timeout(240_000);
  let cloud: Cloud;
  let ports: Ports;
  let ann: ApiClient;

  before(async () => {
    cloud = await startCloud({ mail: { domain: 'localhost', messageBytesMax: MESSAGE_BYTES_MAX } });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { smtp: { port: number }; pop3: { port: number } };
    ports = { smtp: conf.smtp.port, pop3: conf.pop3.port };
    await Promise.all([
      startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]),
      startRole(['pop3', '--conf', cloud.conf, '--data', cloud.dataDir]),
    ]);
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', PASSWORD);
    await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob', PASSWORD);
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  async function inboxSubjects(client: ApiClient): Promise<string[]> {
    const reply = await client.request('GET', '/api/mail/folders/inbox?limit=100');
    return reply.json().messages.map((m: { subject: string }) => m.subject);
  }

  async function popSession(args: Record<string, unknown>): Promise<{ stat: number[]; uidl: string[]; list: string[]; retr?: string; top?: string[] }> {
    const result = await python(POPLIB_SESSION, { port: ports.pop3, user: 'ann', password: PASSWORD, ...args });
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout);
  }

  it('swaks delivers to a local user; the webmail shows it and POP3 returns it byte-intact', async () => {
    const dir = tempDir();
    const text = message('swaks delivery', 'First line\r\n.starts with a dot\r\nlast line');
    writeFileSync(join(dir, 'message.eml'), text, 'latin1');
    const swaks = await run('swaks', ['--server', `127.0.0.1:${ports.smtp}`, '--from', 'sender@example.org', '--to', 'ann@localhost', '--data', join(dir, 'message.eml')]);
    expect(swaks.code, swaks.stdout + swaks.stderr).to.equal(0);
    expect(swaks.stdout).to.match(/<- {2}250 .*queued/);
    expect(await inboxSubjects(ann)).to.include('swaks delivery');
    const pop = await popSession({});
    const index = pop.uidl.length;
    const retr = (await popSession({ retr: index })).retr!;
    expect(retr).to.match(/^Received: from /);
    // The client's own message follows our Received header, every byte (trailing line ends aside).
    const original = text.replace(/(\r\n)+$/, '');
    const body = retr.replace(/(\r\n)+$/, '');
    expect(body.slice(body.length - original.length)).to.equal(original);
    expect(body.slice(0, body.length - original.length)).to.match(/^Received: from [^\r]*\r\n(\t[^\r]*\r\n)+$/);
  });

  it('Python smtplib delivers, and an unknown local user is refused at RCPT with 550', async () => {
    const ok = await python(SMTPLIB_SEND, { port: ports.smtp, from: 'x@example.org', to: ['bob@localhost'], data: message('from smtplib', 'hello bob') });
    expect(ok.stdout).to.match(/^SIZE=200000$/m).and.match(/^OK \{\}$/m);
    const bob = new ApiClient(cloud.urls[0]!);
    await bob.logIn('bob', PASSWORD);
    expect(await inboxSubjects(bob)).to.include('from smtplib');
    const refused = await python(SMTPLIB_SEND, { port: ports.smtp, from: 'x@example.org', to: ['nobody@localhost'], data: message('lost', 'x') });
    expect(refused.stdout).to.match(/^RCPT /m);
    const detail = JSON.parse(refused.stdout.split('\n').find((l) => l.startsWith('RCPT '))!.slice(5)) as Record<string, [number, string]>;
    expect(detail['nobody@localhost']![0]).to.equal(550);
    expect(detail['nobody@localhost']![1]).to.contain('no such user');
  });

  it('is no open relay: outside recipients only after AUTH, which then queues them', async () => {
    const anonymous = await python(SMTPLIB_SEND, { port: ports.smtp, from: 'spammer@example.org', to: ['victim@example.net'], data: message('spam', 'x') });
    const detail = JSON.parse(anonymous.stdout.split('\n').find((l) => l.startsWith('RCPT '))!.slice(5)) as Record<string, [number, string]>;
    expect(detail['victim@example.net']![0]).to.equal(550);
    expect(detail['victim@example.net']![1]).to.match(/Relaying denied/);

    const badLogin = await python(SMTPLIB_SEND, { port: ports.smtp, user: 'ann', password: 'wrong', from: 'ann@localhost', to: ['x@example.net'], data: message('x', 'x') });
    expect(badLogin.code).to.not.equal(0);
    expect(badLogin.stderr).to.contain('535');

    const relayed = await python(SMTPLIB_SEND, { port: ports.smtp, user: 'ann', password: PASSWORD, from: 'ann@localhost', to: ['friend@example.net'], data: message('relayed', 'via PennCloud').replace('Sender <sender@example.org>', 'Ann <ann@localhost>') });
    expect(relayed.stdout).to.match(/^OK \{\}$/m);
    const sent = (await ann.request('GET', '/api/mail/folders/sent')).json().messages;
    expect(sent[0].subject).to.equal('relayed');
    expect(sent[0].delivery[0].recipient).to.equal('friend@example.net');
  });

  it('refuses oversize mail with 552: after reading it all, or at once when the client declares SIZE', async () => {
    const big = message('too big', 'x'.repeat(76).concat('\r\n').repeat(Math.ceil((MESSAGE_BYTES_MAX + 10_000) / 78)));
    const dir = tempDir();
    writeFileSync(join(dir, 'big.eml'), big, 'latin1');
    // swaks declares no SIZE: the server takes the whole DATA, then answers 552.
    const swaks = await run('swaks', ['--server', `127.0.0.1:${ports.smtp}`, '--from', 'x@example.org', '--to', 'ann@localhost', '--data', join(dir, 'big.eml')]);
    expect(swaks.stdout).to.match(/ -> \.\r?\n/).and.match(/<\*\* 552 /);
    // smtplib declares SIZE=n on MAIL FROM (RFC 1870), so it is refused before sending the data.
    const smtplib = await python(SMTPLIB_SEND, { port: ports.smtp, from: 'x@example.org', to: ['ann@localhost'], data: big });
    expect(smtplib.stdout).to.match(/^MAIL 552 /m);
    expect(await inboxSubjects(ann)).to.not.include('too big');
  });

  it('POP3: stable UIDLs across sessions, DELE only at QUIT, TOP, and RETR marks seen in the webmail', async () => {
    await python(SMTPLIB_SEND, { port: ports.smtp, from: 'x@example.org', to: ['ann@localhost'], data: message('pop one', 'body one') });
    await python(SMTPLIB_SEND, { port: ports.smtp, from: 'x@example.org', to: ['ann@localhost'], data: message('pop two', 'body two') });
    const first = await popSession({});
    const second = await popSession({});
    expect(second.uidl).to.deep.equal(first.uidl);
    expect(first.stat[0]).to.equal(first.uidl.length);
    const n = first.uidl.length;
    const top = await popSession({ top: n });
    expect(top.top).to.include('Subject: pop two');
    expect(top.top!.join('\n')).to.not.contain('body two');

    // DELE then drop the connection: nothing is deleted.
    await popSession({ dele: [n], quit: false });
    expect((await popSession({})).uidl).to.deep.equal(first.uidl);

    const before = (await ann.request('GET', '/api/mail/folders/inbox?limit=100')).json().messages.find((m: { subject: string }) => m.subject === 'pop one');
    expect(before.seen).to.equal(false);
    await popSession({ retr: n - 1 });
    const after = (await ann.request('GET', '/api/mail/folders/inbox?limit=100')).json().messages.find((m: { subject: string }) => m.subject === 'pop one');
    expect(after.seen).to.equal(true);

    await popSession({ dele: [n] });
    const third = await popSession({});
    expect(third.uidl).to.deep.equal(first.uidl.slice(0, -1).map((line) => line));
    expect(await inboxSubjects(ann)).to.not.include('pop two');
  });

  it('POP3 with curl: lists and fetches', async () => {
    await python(SMTPLIB_SEND, { port: ports.smtp, from: 'x@example.org', to: ['ann@localhost'], data: message('for curl', 'fetched by curl') });
    const list = await run('curl', ['-sS', '--max-time', '30', `pop3://127.0.0.1:${ports.pop3}/`, '-u', `ann:${PASSWORD}`]);
    expect(list.code, list.stderr).to.equal(0);
    const lines = list.stdout.trim().split(/\r?\n/);
    expect(lines.length).to.be.greaterThan(0);
    const last = lines[lines.length - 1]!.split(' ')[0];
    const fetched = await run('curl', ['-sS', '--max-time', '30', `pop3://127.0.0.1:${ports.pop3}/${last}`, '-u', `ann:${PASSWORD}`]);
    expect(fetched.stdout).to.contain('Subject: for curl').and.contain('fetched by curl');
  });

  it('POP3 with fetchmail: fetches every message and deletes them', async () => {
    const dir = tempDir();
    await python(SMTPLIB_SEND, { port: ports.smtp, from: 'x@example.org', to: ['bob@localhost'], data: message('for fetchmail', 'fetched by fetchmail') });
    const out = join(dir, 'fetched.mbox');
    const rc = join(dir, 'fetchmailrc');
    writeFileSync(rc, `poll 127.0.0.1 service ${ports.pop3} protocol POP3 auth password user "bob" password "${PASSWORD}" is "bob" here sslproto '' no keep mda "/bin/sh -c 'cat >> ${out}'"\n`);
    chmodSync(rc, 0o600);
    const result = await run('fetchmail', ['-f', rc, '--pidfile', join(dir, 'pid'), '-i', join(dir, 'ids'), '--nosyslog', '--nodetach'], { env: { HOME: dir } });
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(readFileSync(out, 'latin1')).to.contain('Subject: for fetchmail').and.contain('fetched by fetchmail');
    const bob = new ApiClient(cloud.urls[0]!);
    await bob.logIn('bob', PASSWORD);
    expect(await inboxSubjects(bob)).to.not.include('for fetchmail');
  });

  it('POP3 transcript: CAPA, AUTH PLAIN with and without an initial response, pipelined commands in order', async () => {
    const creds = Buffer.from(`\0ann\0${PASSWORD}`).toString('base64');
    const capa = await pop3Raw(ports.pop3, ['CAPA'], /\r\n\.\r\n/);
    expect(capa).to.match(/^\+OK PennCloud POP3 server ready\r\n/);
    expect(capa).to.contain('\r\nSASL PLAIN\r\n').and.contain('\r\nPIPELINING\r\n').and.contain('\r\nUIDL\r\n');
    const withInitial = await pop3Raw(ports.pop3, [`AUTH PLAIN ${creds}`, 'STAT', 'NOOP', 'QUIT'], /signing off/);
    const replies = withInitial.split('\r\n').filter((l) => l.startsWith('+OK') || l.startsWith('-ERR'));
    expect(replies[1]).to.match(/^\+OK ann has \d+ message/);
    expect(replies[2]).to.match(/^\+OK \d+ \d+$/);
    expect(replies[3]).to.equal('+OK');
    const twoStep = await pop3Raw(ports.pop3, ['AUTH PLAIN', creds, 'QUIT'], /signing off/);
    expect(twoStep).to.contain('\r\n+ \r\n').and.match(/\+OK ann has/);
    const wrong = await pop3Raw(ports.pop3, ['USER ann', 'PASS nope', 'USER ann', 'PASS nope', 'USER ann', 'PASS nope'], /too many failed/);
    expect(wrong).to.contain('-ERR [AUTH]');
  });
});
