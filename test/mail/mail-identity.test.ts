import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, freePort, killAllRoles, startRole, tempDir } from '../support/roles.js';
import { ApiClient, closeKvClients, startCloud, type Cloud } from '../api/cloud.js';
import { python } from './mail-clients.js';

const PASSWORD = 'correct horse';

/** Sends messages on one smtplib connection; prints one line per message: OK, or the stage and the reply. */
const SMTPLIB_SEND = `
import json, smtplib, sys
a = json.loads(sys.stdin.read())
s = smtplib.SMTP('127.0.0.1', a['port'], timeout=30)
try:
    s.ehlo('client.example.org')
    if a.get('user'):
        s.login(a['user'], a['password'])
    for m in a['messages']:
        try:
            s.sendmail(m['from'], m['to'], m['data'].encode('utf-8'))
            print('OK')
        except smtplib.SMTPRecipientsRefused as e:
            print('RCPT ' + json.dumps({k: [v[0], v[1].decode()] for k, v in e.recipients.items()}))
        except smtplib.SMTPDataError as e:
            print('DATA %d %s' % (e.smtp_code, e.smtp_error.decode()))
        except smtplib.SMTPSenderRefused as e:
            print('MAIL %d %s' % (e.smtp_code, e.smtp_error.decode()))
        s.rset()
finally:
    s.quit()
`;

const POPLIB_LAST = `
import json, poplib, sys
a = json.loads(sys.stdin.read())
p = poplib.POP3('127.0.0.1', a['port'], timeout=30)
p.user(a['user'])
p.pass_(a['password'])
n = p.stat()[0]
print(json.dumps({'count': n, 'last': b'\\r\\n'.join(p.retr(n)[1]).decode('utf-8') if n else ''}))
p.quit()
`;

function message(from: string, to: string, subject: string): string {
  return [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, 'Date: Sat, 21 Nov 2026 10:00:00 +0000', '', `about ${subject}`, ''].join('\r\n');
}

interface Outcome { lines: string[] }

describe('mail identity: who a message may say it is from, with real clients', function () {
  this.timeout(240_000);
  let cloud: Cloud;
  let ports: { smtp: number; pop3: number; refusing: number; counting: number };
  let ann: ApiClient;

  /** A copy of the cloud's configuration with its own SMTP port and `smtp` settings, and an SMTP process on it. */
  async function extraSmtp(settings: Record<string, unknown>): Promise<number> {
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as Record<string, any>;
    const port = await freePort();
    conf.smtp = { ...conf.smtp, ...settings, port };
    const file = join(tempDir(), 'penncloud.json');
    writeFileSync(file, JSON.stringify(conf));
    await startRole(['smtp', '--conf', file, '--data', cloud.dataDir]);
    return port;
  }

  before(async () => {
    cloud = await startCloud({ mail: { domain: 'localhost' } });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { smtp: { port: number }; pop3: { port: number } };
    await Promise.all([
      startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]),
      startRole(['pop3', '--conf', cloud.conf, '--data', cloud.dataDir]),
    ]);
    const refusing = await extraSmtp({ localSenderPolicy: 'refuse' });
    // The default count per window; a window long enough that a loaded machine sends 61 within it.
    const counting = await extraSmtp({ unauthenticatedWindowMs: 600_000 });
    ports = { smtp: conf.smtp.port, pop3: conf.pop3.port, refusing, counting };
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', PASSWORD);
    await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob', PASSWORD);
    await new ApiClient(cloud.urls[0]!).signUpAndLogIn('operator', PASSWORD);
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  async function smtp(port: number, messages: Array<{ from: string; to: string[]; data: string }>, login?: string): Promise<Outcome> {
    const result = await python(SMTPLIB_SEND, { port, messages, ...(login === undefined ? {} : { user: login, password: PASSWORD }) });
    expect(result.code, result.stderr).to.equal(0);
    return { lines: result.stdout.trim().split('\n') };
  }

  async function inbox(user: ApiClient): Promise<Array<{ id: string; subject: string }>> {
    return (await user.request('GET', '/api/mail/folders/inbox?limit=100')).json().messages;
  }

  it('bob, logged in, cannot send as operator: MAIL FROM gets 553 naming both, a forged From: gets 550 at the end of DATA', async () => {
    const out = await smtp(ports.smtp, [
      { from: 'operator@localhost', to: ['ann@localhost'], data: message('operator@localhost', 'ann@localhost', 'envelope forged') },
      { from: '', to: ['ann@localhost'], data: message('bob@localhost', 'ann@localhost', 'null sender') },
      { from: 'bob@localhost', to: ['ann@localhost'], data: message('The Operator <operator@localhost>', 'ann@localhost', 'header forged') },
    ], 'bob');
    expect(out.lines[0]).to.equal('MAIL 553 5.7.1 Sender address <operator@localhost> is not yours (logged in as bob)');
    expect(out.lines[1]).to.equal('MAIL 553 5.7.1 Sender address <> is not yours (logged in as bob)');
    expect(out.lines[2]).to.equal('DATA 550 5.7.1 From: header <operator@localhost> is not yours (logged in as bob)');
    const subjects = (await inbox(ann)).map((m) => m.subject);
    expect(subjects).to.not.include('envelope forged').and.not.include('null sender').and.not.include('header forged');
  });

  it('bob, logged in, sends as himself (with a display name), and ann gets it unmarked', async () => {
    const out = await smtp(ports.smtp, [{ from: 'bob@localhost', to: ['ann@localhost'], data: message('Bob Builder <bob@localhost>', 'ann@localhost', 'really bob') }], 'bob');
    expect(out.lines).to.deep.equal(['OK']);
    const m = (await inbox(ann)).find((s) => s.subject === 'really bob')!;
    expect(m, 'delivered').to.not.equal(undefined);
    const read = (await ann.request('GET', `/api/mail/messages/${m.id}`)).json();
    expect(read.senderWarning).to.equal(null);
  });

  it('a stranger claiming a local sender is delivered marked: the header in POP3 RETR, senderWarning in the webmail', async () => {
    const out = await smtp(ports.smtp, [{ from: 'operator@localhost', to: ['ann@localhost'], data: message('Operator <operator@localhost>', 'ann@localhost', 'reset your password') }]);
    expect(out.lines).to.deep.equal(['OK']);
    const pop = await python(POPLIB_LAST, { port: ports.pop3, user: 'ann', password: PASSWORD });
    expect(pop.code, pop.stderr).to.equal(0);
    const last = (JSON.parse(pop.stdout) as { last: string }).last;
    expect(last).to.contain('Subject: reset your password');
    expect(last).to.match(/\r\nX-PennCloud-Warning: sender claims a local address but did not log in\r\n/);
    const m = (await inbox(ann)).find((s) => s.subject === 'reset your password')!;
    const read = (await ann.request('GET', `/api/mail/messages/${m.id}`)).json();
    expect(read.senderWarning).to.equal('sender claims a local address but did not log in');

    // A stranger from its own domain is not marked.
    await smtp(ports.smtp, [{ from: 'x@example.org', to: ['ann@localhost'], data: message('X <x@example.org>', 'ann@localhost', 'honest stranger') }]);
    const honest = (await inbox(ann)).find((s) => s.subject === 'honest stranger')!;
    expect((await ann.request('GET', `/api/mail/messages/${honest.id}`)).json().senderWarning).to.equal(null);
  });

  it('with smtp.localSenderPolicy "refuse", a stranger claiming a local sender gets 550, in the envelope or in From:', async () => {
    const out = await smtp(ports.refusing, [
      { from: 'operator@localhost', to: ['ann@localhost'], data: message('operator@localhost', 'ann@localhost', 'refused envelope') },
      { from: 'x@example.org', to: ['ann@localhost'], data: message('Operator <operator@localhost>', 'ann@localhost', 'refused header') },
      { from: 'x@example.org', to: ['ann@localhost'], data: message('x@example.org', 'ann@localhost', 'still welcome') },
    ]);
    expect(out.lines[0]).to.match(/^MAIL 550 5\.7\.1 /);
    expect(out.lines[1]).to.match(/^DATA 550 5\.7\.1 /);
    expect(out.lines[2]).to.equal('OK');
    const subjects = (await inbox(ann)).map((m) => m.subject);
    expect(subjects).to.include('still welcome').and.not.include('refused envelope').and.not.include('refused header');
  });

  it('the 61st unauthenticated message from one address in the window gets 451 with the wait; a logged-in user still sends', async () => {
    const many = Array.from({ length: 61 }, (_, i) => ({ from: 'x@example.org', to: ['bob@localhost'], data: message('x@example.org', 'bob@localhost', `flood ${i + 1}`) }));
    const out = await smtp(ports.counting, many);
    expect(out.lines.slice(0, 60)).to.deep.equal(Array(60).fill('OK'));
    expect(out.lines[60]).to.match(/^MAIL 451 4\.7\.1 Too many messages from your address, try again in \d+ s$/);
    const authed = await smtp(ports.counting, [{ from: 'ann@localhost', to: ['bob@localhost'], data: message('ann@localhost', 'bob@localhost', 'after the flood') }], 'ann');
    expect(authed.lines).to.deep.equal(['OK']);
  });
});
