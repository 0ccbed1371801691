import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, startRole, tempDir } from '../support/roles.js';
import { allRows, ApiClient, bytesFor, closeKvClients, MARK, startCloud, type Cloud } from '../api/cloud.js';
import { python, run } from './mail-clients.js';

const PASSWORD = 'correct horse';
const MESSAGE_BYTES_MAX = 6 * 1024 * 1024;
/** Small chunks, so a message of a few MiB spans many chunk rows. */
const CHUNK_BYTES = 64 * 1024;

const SMTPLIB_SEND = `
import json, smtplib, sys
a = json.loads(sys.stdin.read())
s = smtplib.SMTP('127.0.0.1', a['port'], timeout=60)
try:
    s.sendmail(a['from'], a['to'], open(a['file'], 'rb').read())
    print('OK')
except smtplib.SMTPDataError as e:
    print('DATA %d %s' % (e.smtp_code, e.smtp_error.decode()))
except smtplib.SMTPSenderRefused as e:
    print('MAIL %d %s' % (e.smtp_code, e.smtp_error.decode()))
finally:
    s.quit()
`;

const POPLIB_LAST = `
import json, poplib, sys
a = json.loads(sys.stdin.read())
p = poplib.POP3('127.0.0.1', a['port'], timeout=60)
p.user(a['user'])
p.pass_(a['password'])
n = p.stat()[0]
open(a['out'], 'wb').write(b'\\r\\n'.join(p.retr(n)[1]) + b'\\r\\n')
p.quit()
print('OK')
`;

/** A multipart message with one base64 attachment of `content`. */
function withAttachment(subject: string, content: Buffer): Buffer {
  const b64 = content.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from([
    'From: Sender <sender@example.org>', 'To: ann@localhost, bob@localhost', `Subject: ${subject}`,
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain', '', 'see attached', '--b1',
    'Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="data.bin"', 'Content-Transfer-Encoding: base64', '',
    b64, '--b1--', '',
  ].join('\r\n'), 'latin1');
}

describe('big mail: SMTP and the webmail stream into the store', function () {
  this.timeout(240_000);
  let cloud: Cloud;
  let ports: { smtp: number; pop3: number };
  let ann: ApiClient;
  let bob: ApiClient;

  before(async () => {
    cloud = await startCloud({ mail: { domain: 'localhost', messageBytesMax: MESSAGE_BYTES_MAX }, drive: { chunkBytes: CHUNK_BYTES } });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { smtp: { port: number }; pop3: { port: number } };
    ports = { smtp: conf.smtp.port, pop3: conf.pop3.port };
    await Promise.all([
      startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]),
      startRole(['pop3', '--conf', cloud.conf, '--data', cloud.dataDir]),
    ]);
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', PASSWORD);
    bob = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bob', PASSWORD);
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  async function smtpSend(bytes: Buffer, to: string[]): Promise<string> {
    const file = join(tempDir(), 'message.eml');
    writeFileSync(file, bytes);
    const result = await python(SMTPLIB_SEND, { port: ports.smtp, from: 'sender@example.org', to, file });
    expect(result.code, result.stderr).to.equal(0);
    return result.stdout.trim();
  }

  async function lastByPop(user: string): Promise<Buffer> {
    const out = join(tempDir(), 'retr.eml');
    const result = await python(POPLIB_LAST, { port: ports.pop3, user, password: PASSWORD, out });
    expect(result.code, result.stderr).to.equal(0);
    return readFileSync(out);
  }

  async function chunkRows(): Promise<number> {
    return (await allRows(cloud.kvClient())).filter((r) => r.includes(':chunk:')).length;
  }

  it('a 4 MiB message to two users is stored for each, byte for byte, with its summary learnt on the way', async () => {
    const content = bytesFor(7, 3 * 1024 * 1024);
    const message = withAttachment('four megabytes', content);
    expect(await smtpSend(message, ['ann@localhost', 'bob@localhost'])).to.equal('OK');
    for (const [user, client] of [['ann', ann], ['bob', bob]] as const) {
      const retr = await lastByPop(user);
      // Our Received header, then the client's bytes exactly.
      expect(retr.subarray(retr.length - message.length).equals(message), `${user}'s copy`).to.equal(true);
      const summary = (await client.request('GET', '/api/mail/folders/inbox')).json().messages[0];
      expect(summary.subject).to.equal('four megabytes');
      expect(summary.hasAttachments).to.equal(true);
      expect(summary.from[0].address).to.equal('sender@example.org');
      expect(summary.size).to.equal(retr.length);
      const attachment = await client.request('GET', `/api/mail/messages/${summary.id}/attachments/0`);
      expect(attachment.body.equals(content), `${user}'s attachment`).to.equal(true);
    }
  });

  it('a header section over 256 KiB gets 552 and leaves nothing behind', async () => {
    const rowsBefore = await chunkRows();
    const header = Array.from({ length: 300 }, (_, i) => `X-Filler-${i}: ${'h'.repeat(990)}`).join('\r\n');
    const reply = await smtpSend(Buffer.from(`${header}\r\nSubject: huge head\r\n\r\nbody\r\n`), ['ann@localhost']);
    expect(reply).to.match(/^DATA 552 5\.3\.4 Header section too big: at most 262144 bytes/);
    const subjects = (await ann.request('GET', '/api/mail/folders/inbox?limit=100')).json().messages.map((m: { subject: string }) => m.subject);
    expect(subjects).to.not.include('huge head');
    expect(await chunkRows()).to.equal(rowsBefore);
  });

  it('a message that passes the size limit in the middle of DATA gets 552 after its end, and its chunks are deleted', async () => {
    const rowsBefore = await chunkRows();
    const dir = tempDir();
    writeFileSync(join(dir, 'big.eml'), withAttachment('too big', bytesFor(3, 5 * 1024 * 1024)));
    // swaks declares no SIZE, so the server only learns the size as the bytes come.
    const swaks = await run('swaks', ['--server', `127.0.0.1:${ports.smtp}`, '--from', 'x@example.org', '--to', 'ann@localhost', '--data', join(dir, 'big.eml')]);
    expect(swaks.stdout).to.match(/ -> \.\r?\n/).and.match(/<\*\* 552 /);
    expect(await chunkRows()).to.equal(rowsBefore);
  });

  it('webmail: a 2 MiB attachment goes out whole, and nothing of its staging stays', async () => {
    const rowsBefore = await chunkRows();
    const content = bytesFor(11, 2 * 1024 * 1024);
    const data = new FormData();
    data.set('to', 'bob@localhost');
    data.set('subject', 'staged attachment');
    data.set('attachment', new Blob([content], { type: 'application/octet-stream' }), 'two.bin');
    const encoded = new Response(data);
    const body = Buffer.from(await encoded.arrayBuffer());
    const sent = await ann.request('POST', '/api/mail/send', { body, headers: { ...MARK, 'content-type': encoded.headers.get('content-type')! } });
    expect(sent.status, sent.body.toString()).to.equal(201);
    const summary = (await bob.request('GET', '/api/mail/folders/inbox')).json().messages[0];
    expect(summary.subject).to.equal('staged attachment');
    const attachment = await bob.request('GET', `/api/mail/messages/${summary.id}/attachments/0`);
    expect(attachment.body.equals(content)).to.equal(true);
    // The Sent copy and bob's copy hold chunks; the staged attachment's are gone.
    const sentSize = (sent.json() as { message: { size: number } }).message.size;
    expect(summary.size).to.equal(sentSize);
    expect(await chunkRows()).to.equal(rowsBefore + 2 * Math.ceil(sentSize / CHUNK_BYTES));
  });

  it('webmail: attachments over the size limit get 413, and the chunks staged so far are deleted', async () => {
    const rowsBefore = await chunkRows();
    const data = new FormData();
    data.set('to', 'bob@localhost');
    data.set('subject', 'too big to send');
    data.set('attachment', new Blob([bytesFor(5, MESSAGE_BYTES_MAX + 1024)], { type: 'application/octet-stream' }), 'big.bin');
    const encoded = new Response(data);
    const body = Buffer.from(await encoded.arrayBuffer());
    const sent = await ann.request('POST', '/api/mail/send', { body, headers: { ...MARK, 'content-type': encoded.headers.get('content-type')! } });
    expect(sent.status, sent.body.toString()).to.equal(413);
    expect(await chunkRows()).to.equal(rowsBefore);
  });
});
