import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createConnection } from 'node:net';
import { cleanupTempDirs, killAllRoles, startRole } from '../support/roles.js';
import { ApiClient, closeKvClients, MARK, startCloud, type Cloud } from '../api/cloud.js';
import { CLIENT_TIMEOUT_MS, python } from './mail-clients.js';

const PASSWORD = 'correct horse';
const MESSAGE_BYTES_MAX = 20_000;

const SMTPLIB_SEND = `
import json, smtplib, sys
a = json.loads(sys.stdin.read())
s = smtplib.SMTP('127.0.0.1', a['port'], timeout=30)
s.ehlo('client.example.org')
if a.get('user'):
    s.login(a['user'], a['password'])
print('OK ' + json.dumps(s.sendmail(a['from'], a['to'], a['data'].encode('utf-8'))))
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

const POPLIB_FILENAMES = `
import email, email.policy, json, poplib, sys
a = json.loads(sys.stdin.read())
p = poplib.POP3('127.0.0.1', a['port'], timeout=30)
p.user(a['user'])
p.pass_(a['password'])
n = p.stat()[0]
m = email.message_from_bytes(b'\\r\\n'.join(p.retr(n)[1]), policy=email.policy.default)
p.quit()
sys.stdout.buffer.write(json.dumps([part.get_filename() for part in m.iter_attachments()], ensure_ascii=False).encode('utf-8'))
`;

const POPLIB_SIZES = `
import json, poplib, sys
a = json.loads(sys.stdin.read())
p = poplib.POP3('127.0.0.1', a['port'], timeout=30)
p.user(a['user'])
p.pass_(a['password'])
n, total = p.stat()
listed = int(p.list(n).split()[2])
resp, lines, octets = p.retr(n)
p.quit()
print(json.dumps({'stat': total, 'list': listed, 'retr': int(resp.split()[1]), 'sent': sum(len(l) + 2 for l in lines)}))
`;

function message(subject: string, to: string): string {
  return [`From: Sender <sender@example.org>`, `To: ${to}`, `Subject: ${subject}`, 'Date: Sat, 21 Nov 2026 10:00:00 +0000', '', 'body', ''].join('\r\n');
}

/** An interactive POP3 connection: each command waits for its reply (a multi-line one when asked). */
class Pop3Conversation {
  private text = '';
  private readonly socket: Socket;
  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => { this.text += d.toString('latin1'); });
  }
  /** Waits until the replies so far match `until` (bounded by CLIENT_TIMEOUT_MS) and returns them. */
  async next(until: RegExp): Promise<string> {
    const deadline = Date.now() + CLIENT_TIMEOUT_MS;
    while (!until.test(this.text)) {
      if (Date.now() > deadline) throw new Error(`no reply matching ${until}: ${this.text}`);
      await new Promise<void>((resolve) => this.socket.once('data', () => resolve()));
    }
    const out = this.text;
    this.text = '';
    return out;
  }
  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }
  close(): void {
    this.socket.destroy();
  }
}

describe('mail transport: what real clients can trust', function () {
  this.timeout(240_000);
  let cloud: Cloud;
  let ports: { smtp: number; pop3: number };
  let ann: ApiClient;
  let carol: ApiClient;

  before(async () => {
    cloud = await startCloud({ mail: { domain: 'localhost', messageBytesMax: MESSAGE_BYTES_MAX } });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { smtp: { port: number }; pop3: { port: number }; admins: string[] };
    conf.admins = ['carol'];
    writeFileSync(cloud.conf, JSON.stringify(conf));
    ports = { smtp: conf.smtp.port, pop3: conf.pop3.port };
    await Promise.all([
      startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]),
      startRole(['pop3', '--conf', cloud.conf, '--data', cloud.dataDir]),
    ]);
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', PASSWORD);
    await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob', PASSWORD);
    carol = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('carol', PASSWORD);
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  async function send(to: string[], subject: string, auth = false): Promise<void> {
    const result = await python(SMTPLIB_SEND, { port: ports.smtp, from: auth ? 'ann@localhost' : 'x@example.org', to, data: auth ? message(subject, to[0]!).replace('Sender <sender@example.org>', 'Ann <ann@localhost>') : message(subject, to[0]!), ...(auth ? { user: 'ann', password: PASSWORD } : {}) });
    expect(result.stdout, result.stderr).to.match(/^OK \{\}$/m);
  }

  async function lastByPop(user: string): Promise<{ count: number; last: string }> {
    const result = await python(POPLIB_LAST, { port: ports.pop3, user, password: PASSWORD });
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout);
  }

  it('a message removed in the webmail under a POP3 session: RETR and TOP say no such message, QUIT removes the rest, and the next login is not [IN-USE]', async () => {
    await send(['ann@localhost'], 'removed underneath');
    await send(['ann@localhost'], 'deleted by pop');
    const pop = new Pop3Conversation(ports.pop3);
    try {
      await pop.next(/^\+OK.*\r\n/);
      pop.send('USER ann');
      await pop.next(/\r\n/);
      pop.send(`PASS ${PASSWORD}`);
      expect(await pop.next(/\r\n/)).to.match(/^\+OK ann has/);
      pop.send('STAT');
      const count = Number(/^\+OK (\d+)/.exec(await pop.next(/\r\n/))![1]);
      const inbox = (await ann.request('GET', '/api/mail/folders/inbox?limit=100')).json().messages as { id: string; subject: string }[];
      const gone = inbox.find((m) => m.subject === 'removed underneath')!;
      // Once to Trash, once for good.
      expect((await ann.request('DELETE', `/api/mail/messages/${gone.id}`, { headers: MARK })).json()).to.include({ outcome: 'trashed' });
      expect((await ann.request('DELETE', `/api/mail/messages/${gone.id}`, { headers: MARK })).json()).to.include({ outcome: 'removed' });
      // Oldest first: the newest is "deleted by pop", the one before it is gone.
      pop.send(`TOP ${count - 1} 0`);
      expect(await pop.next(/\r\n/)).to.match(/^-ERR \[SYS\/PERM\] no such message/);
      pop.send(`RETR ${count - 1}`);
      expect(await pop.next(/\r\n/)).to.match(/^-ERR \[SYS\/PERM\] no such message/);
      pop.send(`DELE ${count - 1}`);
      await pop.next(/\r\n/);
      pop.send(`DELE ${count}`);
      await pop.next(/\r\n/);
      pop.send('QUIT');
      expect(await pop.next(/\r\n/)).to.match(/^\+OK signing off/);
    } finally {
      pop.close();
    }
    const after = await lastByPop('ann');
    expect(after.last).to.not.contain('Subject: deleted by pop');
    expect((await ann.request('GET', '/api/mail/folders/inbox?limit=100')).json().messages.map((m: { subject: string }) => m.subject)).to.not.include('deleted by pop');
  });

  it('a session that ends on an error releases the maildrop: the next login is not [IN-USE]', async () => {
    const pop = new Pop3Conversation(ports.pop3);
    try {
      await pop.next(/^\+OK.*\r\n/);
      pop.send('USER ann');
      await pop.next(/\r\n/);
      pop.send(`PASS ${PASSWORD}`);
      await pop.next(/\r\n/);
      // A command line past the limit ends the session from the server's side.
      pop.send(`NOOP ${'x'.repeat(2000)}`);
      expect(await pop.next(/\r\n/)).to.match(/^-ERR command line longer than 1024 octets/);
    } finally {
      pop.close();
    }
    const again = new Pop3Conversation(ports.pop3);
    try {
      await again.next(/^\+OK.*\r\n/);
      again.send('USER ann');
      await again.next(/\r\n/);
      again.send(`PASS ${PASSWORD}`);
      expect(await again.next(/\r\n/)).to.match(/^\+OK ann has/);
      again.send('QUIT');
      await again.next(/\r\n/);
    } finally {
      again.close();
    }
  });

  it('a complete command line over 1024 octets is refused whole, before login too', async () => {
    const pop = new Pop3Conversation(ports.pop3);
    try {
      await pop.next(/^\+OK.*\r\n/);
      pop.send(`USER ${'a'.repeat(1100)}`);
      expect(await pop.next(/\r\n/)).to.equal('-ERR command line longer than 1024 octets, closing\r\n');
    } finally {
      pop.close();
    }
  });

  it('POP3 sizes are wire sizes: a message stored with bare LF line ends has LIST and RETR octets of what is sent', async () => {
    // An SMTP client that sends bare LF line ends; the message is stored as it came.
    const transcript = await smtpRaw(ports.smtp, ['EHLO client.example.org', 'MAIL FROM:<x@example.org>', 'RCPT TO:<bob@localhost>', 'DATA',
      'From: x@example.org\nTo: bob@localhost\nSubject: bare lf\n\none\ntwo\r\n.', 'QUIT']);
    expect(transcript).to.match(/^250 .*queued/m);
    const result = await python(POPLIB_SIZES, { port: ports.pop3, user: 'bob', password: PASSWORD });
    expect(result.code, result.stderr).to.equal(0);
    const sizes = JSON.parse(result.stdout) as { list: number; stat: number; retr: number; sent: number };
    expect(sizes.list).to.equal(sizes.sent);
    expect(sizes.retr).to.equal(sizes.sent);
  });

  it('Bcc recipients are not disclosed: Received names one path at most, none for several', async () => {
    await send(['ann@localhost', 'bob@localhost'], 'with a bcc');
    const several = await lastByPop('ann');
    expect(several.last).to.contain('Subject: with a bcc');
    expect(several.last).to.not.contain('bob@localhost');
    expect(several.last).to.not.match(/^\tfor </m);
    await send(['ann@localhost'], 'one recipient');
    expect((await lastByPop('ann')).last).to.match(/^\tfor <ann@localhost>; /m);
  });

  it('postmaster@ and abuse@ are accepted and reach the admins', async () => {
    await send(['postmaster@localhost'], 'to the postmaster');
    await send(['abuse@localhost'], 'to abuse');
    const subjects = (await carol.request('GET', '/api/mail/folders/inbox?limit=100')).json().messages.map((m: { subject: string }) => m.subject);
    expect(subjects).to.include('to the postmaster').and.include('to abuse');
  });

  it('mail submitted with SMTP AUTH to a local recipient gets a Sent copy', async () => {
    await send(['bob@localhost'], 'submitted locally', true);
    const sent = (await ann.request('GET', '/api/mail/folders/sent?limit=100')).json().messages.map((m: { subject: string }) => m.subject);
    expect(sent).to.include('submitted locally');
  });

  it('a non-ASCII attachment name sent from the webmail reaches Python through POP3 intact, and the webmail shows it', async () => {
    const name = 'Größe-データ.bin';
    const data = new FormData();
    data.set('to', 'bob@localhost');
    data.set('subject', 'named attachment');
    data.set('text', 'see attached');
    data.set('attachment', new Blob([Buffer.from('payload')], { type: 'application/octet-stream' }), name);
    // The bytes and boundary a browser's fetch of a FormData would send (the name as raw UTF-8).
    const encoded = new Response(data);
    const body = Buffer.from(await encoded.arrayBuffer());
    const sent = await ann.request('POST', '/api/mail/send', { body, headers: { ...MARK, 'content-type': encoded.headers.get('content-type')! } });
    expect(sent.status, sent.body.toString()).to.equal(201);
    const result = await python(POPLIB_FILENAMES, { port: ports.pop3, user: 'bob', password: PASSWORD });
    expect(result.code, result.stderr).to.equal(0);
    expect(JSON.parse(Buffer.from(result.stdout, 'latin1').toString('utf8'))).to.deep.equal([name]);
    const id = (sent.json() as { message: { id: string } }).message.id;
    const read = (await ann.request('GET', `/api/mail/messages/${id}`)).json() as { attachments: { filename: string }[] };
    expect(read.attachments.map((a) => a.filename)).to.deep.equal([name]);
  });

  it('SIZE boundary: a message of exactly the advertised SIZE is accepted (our Received header does not count)', async () => {
    const head = message('exactly SIZE', 'ann@localhost').replace(/body\r\n$/, '');
    // Lines of 78 octets (POP3 clients read lines of limited length), the last one shorter.
    const room = MESSAGE_BYTES_MAX - head.length;
    const data = head + `${'x'.repeat(76)}\r\n`.repeat(Math.floor(room / 78)) + `${'y'.repeat(room % 78 - 2)}\r\n`;
    expect(Buffer.byteLength(data)).to.equal(MESSAGE_BYTES_MAX);
    const result = await python(SMTPLIB_SEND, { port: ports.smtp, from: 'x@example.org', to: ['ann@localhost'], data });
    expect(result.stdout, result.stderr).to.match(/^OK \{\}$/m);
    expect((await lastByPop('ann')).last).to.contain('Subject: exactly SIZE');
  });

  it('SMTPUTF8: a UTF-8 MAIL FROM without the parameter is refused with 553 5.6.7, with it the mail is taken', async () => {
    const transcript = await smtpRaw(ports.smtp, [
      'EHLO client.example.org', 'MAIL FROM:<jörg@example.org>', 'RSET',
      'MAIL FROM:<jörg@example.org> SMTPUTF8', 'RCPT TO:<ann@localhost>', 'DATA',
      'From: Jörg <jörg@example.org>\r\nTo: ann@localhost\r\nSubject: utf8 sender\r\n\r\nhej\r\n.', 'QUIT',
    ]);
    const replies = transcript.split('\r\n').filter((l) => /^\d{3} /.test(l));
    expect(replies.map((l) => l.slice(0, 3))).to.deep.equal(['220', '250', '553', '250', '250', '250', '354', '250', '221']);
    expect(replies[2]).to.match(/^553 5\.6\.7 /);
    const inbox = (await ann.request('GET', '/api/mail/folders/inbox?limit=100')).json().messages as { subject: string; from: { address: string }[] }[];
    expect(inbox.find((m) => m.subject === 'utf8 sender')!.from[0]!.address).to.equal('jörg@example.org');
  });
});

/** Sends SMTP lines one at a time, each after the previous reply, and returns the transcript. */
function smtpRaw(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`SMTP transcript incomplete: ${text}`));
    }, CLIENT_TIMEOUT_MS);
    socket.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      // A reply is complete at a line "NNN text" (not "NNN-text").
      const replies = text.split('\r\n').filter((l) => /^\d{3} /.test(l)).length;
      if (replies > sent && sent < lines.length) socket.write(`${lines[sent++]}\r\n`);
      else if (replies > lines.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('error', reject);
  });
}
