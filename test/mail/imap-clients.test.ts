import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, startRole, stopRole, tempDir, type RoleProcess } from '../support/roles.js';
import { ApiClient, closeKvClients, MARK, startCloud, type Cloud } from '../api/cloud.js';
import { MailService } from '../../lib/services/mail-service.js';
import { StorageService } from '../../lib/services/storage-service.js';
import { python, run } from './mail-clients.js';

const PASSWORD = 'correct horse';

/** Python's imaplib driving one session; steps come as JSON and the results go back as JSON. */
const IMAPLIB_SESSION = `
import imaplib, json, sys
a = json.loads(sys.stdin.read())
M = imaplib.IMAP4('127.0.0.1', a['port'], timeout=30)
out = {'capabilities': list(M.capabilities)}
M.login(a['user'], a['password'])
def text(v):
    return v.decode('latin-1') if isinstance(v, bytes) else v
def flat(data):
    return [[text(x) for x in d] if isinstance(d, tuple) else text(d) for d in data]
for step in a['steps']:
    kind = step[0]
    if kind == 'list':
        typ, data = M.list()
    elif kind == 'select':
        typ, data = M.select(step[1], readonly=step[2] if len(step) > 2 else False)
        data = [text(d) for d in data] + [{k: [text(x) for x in v] for k, v in M.untagged_responses.items() if k in ('UIDVALIDITY', 'UIDNEXT', 'EXISTS')}]
    elif kind == 'uid':
        typ, data = M.uid(step[1], *step[2:])
    elif kind == 'append':
        typ, data = M.append(step[1], step[2], None, step[3].encode('latin-1'))
    elif kind == 'expunge':
        typ, data = M.expunge()
    elif kind == 'store':
        typ, data = M.store(step[1], step[2], step[3])
    elif kind == 'search':
        typ, data = M.search(None, *step[1:])
    elif kind == 'status':
        typ, data = M.status(step[1], step[2])
    elif kind == 'fetch':
        typ, data = M.fetch(step[1], step[2])
    out.setdefault('results', []).append([typ, flat(data)])
M.logout()
print(json.dumps(out))
`;

/** IDLE by hand (imaplib has no idle() before Python 3.14): mail sent by SMTP while idling must be pushed. */
const IMAPLIB_IDLE = `
import imaplib, json, smtplib, sys, time
a = json.loads(sys.stdin.read())
M = imaplib.IMAP4('127.0.0.1', a['port'], timeout=30)
M.login(a['user'], a['password'])
M.select('INBOX')
tag = M._new_tag()
M.send(tag + b' IDLE\\r\\n')
first = M.readline().decode()
s = smtplib.SMTP('127.0.0.1', a['smtp'], timeout=30)
s.sendmail('x@example.org', ['ann@localhost'], b'From: x@example.org\\r\\nSubject: pushed\\r\\n\\r\\nnew mail\\r\\n')
s.quit()
sent = time.monotonic()
pushed = []
while True:
    line = M.readline().decode()
    pushed.append(line.strip())
    if line.endswith('EXISTS\\r\\n'):
        break
elapsed = time.monotonic() - sent
M.send(b'DONE\\r\\n')
done = M.readline().decode().strip()
while not done.startswith(tag.decode()):
    done = M.readline().decode().strip()
M.logout()
print(json.dumps({'first': first.strip(), 'pushed': pushed, 'elapsed': elapsed, 'done': done, 'tag': tag.decode()}))
`;

/** Messages of the bulk sync, and deliveries in flight while they are filled. */
const BULK_MESSAGES = 1000;
const BULK_FILL_CONCURRENCY = 4;

describe('imap: real clients against penncloud imap', function () {
  this.timeout(240_000);
  let cloud: Cloud;
  let ports: { smtp: number; imap: number };
  let ann: ApiClient;
  let imap: RoleProcess;

  before(async () => {
    cloud = await startCloud({ mail: { domain: 'localhost', messageBytesMax: 200_000 } });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { smtp: { port: number }; imap: { port: number } };
    ports = { smtp: conf.smtp.port, imap: conf.imap.port };
    [, imap] = await Promise.all([
      startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]),
      startRole(['imap', '--conf', cloud.conf, '--data', cloud.dataDir]),
    ]);
    ann = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('ann', PASSWORD);
  });
  after(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  async function imaplib(steps: unknown[][]): Promise<{ capabilities: string[]; results: [string, unknown[]][] }> {
    const result = await python(IMAPLIB_SESSION, { port: ports.imap, user: 'ann', password: PASSWORD, steps });
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout);
  }

  async function deliver(subject: string, body: string): Promise<void> {
    const text = `From: Bob <bob@example.org>\r\nTo: ann@localhost\r\nSubject: ${subject}\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\n${body}\r\n`;
    const result = await python(`
import json, smtplib, sys
a = json.loads(sys.stdin.read())
s = smtplib.SMTP('127.0.0.1', a['port'], timeout=30)
s.sendmail('bob@example.org', ['ann@localhost'], a['text'].encode())
s.quit()
`, { port: ports.smtp, text });
    expect(result.code, result.stderr).to.equal(0);
  }

  async function webmail(folder: string): Promise<Array<{ id: string; subject: string; seen: boolean }>> {
    return (await ann.request('GET', `/api/mail/folders/${folder}?limit=100`)).json().messages;
  }

  it('imaplib logs in, lists the special-use folders, selects INBOX and fetches what SMTP delivered, byte for byte', async () => {
    await deliver('first', 'hello over IMAP');
    const r = await imaplib([['list'], ['select', 'INBOX'], ['fetch', '1', '(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])'], ['fetch', '1', '(BODY.PEEK[])']]);
    expect(r.capabilities).to.include.members(['IMAP4REV1', 'IDLE', 'SPECIAL-USE', 'AUTH=PLAIN']);
    const [list, select, headers, body] = r.results;
    expect(list![1]).to.deep.equal(['(\\HasNoChildren) "/" INBOX', '(\\HasNoChildren \\Drafts) "/" Drafts', '(\\HasNoChildren \\Sent) "/" Sent', '(\\HasNoChildren \\Trash) "/" Trash']);
    expect(select![1][0]).to.equal('1');
    const raw = (body![1][0] as string[])[1]!;
    expect(raw).to.match(/^Received: from /).and.contain('Subject: first\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nhello over IMAP\r\n');
    expect((headers![1][0] as string[])[0]).to.match(new RegExp(`^1 \\(UID 1 FLAGS \\(\\) RFC822\\.SIZE ${raw.length} BODY\\[HEADER\\.FIELDS \\(SUBJECT\\)\\]`));
    expect((headers![1][0] as string[])[1]).to.equal('Subject: first\r\n\r\n');
    // BODY.PEEK left it unread in the webmail.
    expect((await webmail('inbox')).find((m) => m.subject === 'first')!.seen).to.equal(false);
  });

  it('\\Seen set by IMAP is read in the webmail, and reading in the webmail is \\Seen in IMAP', async () => {
    await deliver('second', 'read me');
    const r1 = await imaplib([['select', 'INBOX'], ['uid', 'SEARCH', 'UNSEEN'], ['uid', 'STORE', '1', '+FLAGS', '(\\Seen \\Flagged)']]);
    expect(r1.results[1]![1]).to.deep.equal(['1 2']);
    const inbox = await webmail('inbox');
    expect(inbox.find((m) => m.subject === 'first')!.seen).to.equal(true);
    const second = inbox.find((m) => m.subject === 'second')!;
    expect(second.seen).to.equal(false);
    expect((await ann.request('GET', `/api/mail/messages/${second.id}`)).status).to.equal(200);
    const r2 = await imaplib([['select', 'INBOX'], ['uid', 'SEARCH', 'SEEN'], ['fetch', '1:*', '(UID FLAGS)'], ['search', 'SUBJECT', 'second']]);
    expect(r2.results[1]![1]).to.deep.equal(['1 2']);
    expect(r2.results[2]![1]).to.deep.equal(['1 (UID 1 FLAGS (\\Seen \\Flagged))', '2 (UID 2 FLAGS (\\Seen))']);
    expect(r2.results[3]![1]).to.deep.equal(['2']);
  });

  it('APPEND saves a Sent copy the webmail shows; a message deleted in the webmail is gone from IMAP; EXPUNGE removes for good', async () => {
    const r = await imaplib([['append', 'Sent', '(\\Seen)', 'From: ann@localhost\r\nTo: bob@example.org\r\nSubject: my copy\r\n\r\nsent from a phone\r\n'], ['status', 'Sent', '(MESSAGES UIDNEXT)']]);
    expect(r.results[0]![0]).to.equal('OK');
    expect(r.results[1]![1]).to.deep.equal(['Sent (MESSAGES 1 UIDNEXT 2)']);
    expect((await webmail('sent')).map((m) => [m.subject, m.seen])).to.deep.equal([['my copy', true]]);
    const first = (await webmail('inbox')).find((m) => m.subject === 'first')!;
    expect((await ann.request('DELETE', `/api/mail/messages/${first.id}`, { headers: MARK })).json().outcome).to.equal('trashed');
    const after = await imaplib([['select', 'INBOX'], ['fetch', '1:*', '(UID)'], ['select', 'Trash'], ['uid', 'STORE', '1', '+FLAGS', '(\\Deleted)'], ['expunge']]);
    expect(after.results[0]![1][0]).to.equal('1');
    expect(after.results[1]![1]).to.deep.equal(['1 (UID 2)']);
    // In Trash the message has a UID of Trash's own.
    expect(after.results[4]![1]).to.deep.equal(['1']);
    expect(await webmail('trash')).to.deep.equal([]);
  });

  it('a client that submits by SMTP AUTH and then saves its Sent copy by APPEND gets one copy in Sent', async () => {
    const text = 'From: ann@localhost\r\nTo: bob@localhost\r\nSubject: sent once\r\nMessage-ID: <once-1@localhost>\r\n\r\nhi bob\r\n';
    const submitted = await python(`
import json, smtplib, sys
a = json.loads(sys.stdin.read())
s = smtplib.SMTP('127.0.0.1', a['port'], timeout=30)
s.login('ann', a['password'])
s.sendmail('ann@localhost', ['ann@localhost'], a['text'].encode())
s.quit()
`, { port: ports.smtp, password: PASSWORD, text });
    expect(submitted.code, submitted.stderr).to.equal(0);
    const r = await imaplib([['append', 'Sent', '(\\Seen)', text], ['select', 'Sent'], ['search', 'SUBJECT', '"sent once"']]);
    expect(r.results[0]![0]).to.equal('OK');
    expect(r.results[2]![1]).to.deep.equal(['2']);
    expect((await webmail('sent')).filter((m) => m.subject === 'sent once')).to.have.length(1);
  });

  it('a message moved to Trash by IMAP is in the webmail\'s Trash, and Restore there brings it back to the Inbox IMAP shows', async () => {
    await deliver('to be moved', 'moving');
    const r = await imaplib([['select', 'INBOX'], ['search', 'SUBJECT', '"to be moved"']]);
    const seq = (r.results[1]![1][0] as string).trim();
    const moved = await imaplib([['select', 'INBOX'], ['store', seq, '+FLAGS', '(\\Flagged)'], ['fetch', seq, '(UID)']]);
    const uid = /UID (\d+)/.exec((moved.results[2]![1][0] as string))![1]!;
    const move = await imaplib([['select', 'INBOX'], ['uid', 'MOVE', uid, 'Trash']]);
    expect(move.results[1]![0]).to.equal('OK');
    const trashed = (await webmail('trash')).find((m) => m.subject === 'to be moved');
    expect(trashed, 'in the webmail Trash').to.not.equal(undefined);
    expect((await webmail('inbox')).map((m) => m.subject)).to.not.include('to be moved');
    expect((await ann.request('POST', `/api/mail/messages/${trashed!.id}/restore`, { headers: MARK })).status).to.equal(200);
    const back = await imaplib([['select', 'INBOX'], ['search', 'SUBJECT', '"to be moved"'], ['search', 'FLAGGED', 'SUBJECT', '"to be moved"'], ['uid', 'SEARCH', 'SUBJECT', '"to be moved"']]);
    expect(back.results[1]![1][0]).to.match(/^\d+$/);
    // The flag went along; back in the Inbox the message has a new, higher UID.
    expect(back.results[2]![1]).to.deep.equal(back.results[1]![1]);
    expect(Number(back.results[3]![1][0])).to.be.greaterThan(Number(uid));
  });

  it('UIDVALIDITY and UIDs stay the same after the IMAP server restarts', async () => {
    const before = await imaplib([['select', 'INBOX'], ['fetch', '1:*', '(UID)']]);
    await stopRole(imap);
    imap = await startRole(['imap', '--conf', cloud.conf, '--data', cloud.dataDir]);
    const after = await imaplib([['select', 'INBOX'], ['fetch', '1:*', '(UID)']]);
    expect(after.results).to.deep.equal(before.results);
    expect((before.results[0]![1][1] as unknown as Record<string, string[]>).UIDVALIDITY![0]).to.match(/^\d+$/);
  });

  it('IDLE pushes mail delivered by SMTP within 2 s', async () => {
    const result = await python(IMAPLIB_IDLE, { port: ports.imap, smtp: ports.smtp, user: 'ann', password: PASSWORD });
    expect(result.code, result.stderr).to.equal(0);
    const idle = JSON.parse(result.stdout) as { first: string; pushed: string[]; elapsed: number; done: string; tag: string };
    expect(idle.first).to.equal('+ idling');
    expect(idle.pushed[idle.pushed.length - 1]).to.match(/^\* \d+ EXISTS$/);
    expect(idle.elapsed).to.be.lessThan(2);
    expect(idle.done).to.equal(`${idle.tag} OK IDLE terminated`);
  });

  it('curl lists the folders and fetches a message by UID', async () => {
    const url = `imap://127.0.0.1:${ports.imap}`;
    const list = await run('curl', ['-sS', '--max-time', '30', '-u', `ann:${PASSWORD}`, `${url}/`]);
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout).to.contain('* LIST (\\HasNoChildren \\Sent) "/" Sent');
    const fetched = await run('curl', ['-sS', '--max-time', '30', '-u', `ann:${PASSWORD}`, `${url}/INBOX;UID=2`]);
    expect(fetched.code, fetched.stderr).to.equal(0);
    expect(fetched.stdout).to.contain('Subject: second\r\n').and.contain('read me');
    const wrong = await run('curl', ['-sS', '--max-time', '30', '-u', 'ann:wrong', `${url}/`]);
    expect(wrong.code).to.not.equal(0);
  });

  it('mbsync syncs INBOX both ways: server mail lands in a Maildir, a local message goes up, a flag set locally is read in the webmail', async () => {
    const dir = tempDir();
    const maildir = join(dir, 'mail');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, 'INBOX', sub), { recursive: true });
    const rc = join(dir, 'mbsyncrc');
    writeFileSync(rc, [
      'IMAPAccount penn', 'Host 127.0.0.1', `Port ${ports.imap}`, 'User ann', `Pass "${PASSWORD}"`, 'SSLType None', 'AuthMechs PLAIN', '',
      'IMAPStore remote', 'Account penn', '',
      'MaildirStore local', `Path ${maildir}/`, `Inbox ${maildir}/INBOX`, '',
      'Channel inbox', 'Far :remote:', 'Near :local:', 'Patterns INBOX', 'Sync All', 'Create Both', 'Expunge None', 'SyncState *', '',
    ].join('\n'));
    writeFileSync(join(maildir, 'INBOX', 'new', '1700000000.local1.host'), 'From: ann@localhost\nTo: ann@localhost\nSubject: written offline\n\nfrom the laptop\n');
    const sync = async (): Promise<void> => {
      const r = await run('mbsync', ['-c', rc, '-a']);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
    };
    await sync();
    const local = (): string[] => [...readdirSync(join(maildir, 'INBOX', 'cur')), ...readdirSync(join(maildir, 'INBOX', 'new'))];
    const subjects = local().map((f) => /^Subject: (.*)$/m.exec(readFileSync(join(maildir, 'INBOX', readdirSync(join(maildir, 'INBOX', 'cur')).includes(f) ? 'cur' : 'new', f), 'latin1'))?.[1]);
    expect(subjects).to.include.members(['second', 'pushed', 'written offline']);
    const inbox = await webmail('inbox');
    const offline = inbox.find((m) => m.subject === 'written offline')!;
    expect(offline, 'the local message is on the server').to.not.equal(undefined);
    expect(offline.seen).to.equal(false);
    // Mark it read in the Maildir (the S flag in its name) and sync again.
    const curDir = join(maildir, 'INBOX', 'cur');
    const newDir = join(maildir, 'INBOX', 'new');
    for (const f of readdirSync(newDir)) renameSync(join(newDir, f), join(curDir, `${f}:2,`));
    const file = readdirSync(curDir).find((f) => readFileSync(join(curDir, f), 'latin1').includes('Subject: written offline'))!;
    renameSync(join(curDir, file), join(curDir, file.replace(/:2,.*$/, ':2,S')));
    await sync();
    expect((await webmail('inbox')).find((m) => m.subject === 'written offline')!.seen).to.equal(true);
  });

  it('mbsync syncs a 1,000-message Inbox both ways: all of it down, flags and new mail up', async () => {
    const bulk = await new ApiClient(cloud.urls[0]!).signUpAndLogIn('bulk', PASSWORD);
    // Filled through the mail service (1,000 SMTP sessions would test SMTP, not the sync).
    const storage = new StorageService(cloud.kvClient(), { chunkBytes: 64 * 1024 });
    const mail = new MailService(cloud.kvClient(), storage, { exists: async () => true }, { domain: 'localhost', messageBytesMax: 200_000, quotaBytes: 1 << 30 });
    let next = 0;
    await Promise.all(Array.from({ length: BULK_FILL_CONCURRENCY }, async () => {
      while (next < BULK_MESSAGES) {
        const n = next++;
        await mail.deliverLocal('bulk', Buffer.from(`From: list${n % 7}@example.org\r\nTo: bulk@localhost\r\nSubject: bulk ${n}\r\nMessage-ID: <bulk-${n}@example.org>\r\n\r\nmessage number ${n}\r\n`));
      }
    }));
    const dir = tempDir();
    const maildir = join(dir, 'mail');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, 'INBOX', sub), { recursive: true });
    const rc = join(dir, 'mbsyncrc');
    writeFileSync(rc, [
      'IMAPAccount penn', 'Host 127.0.0.1', `Port ${ports.imap}`, 'User bulk', `Pass "${PASSWORD}"`, 'SSLType None', 'AuthMechs PLAIN', '',
      'IMAPStore remote', 'Account penn', '',
      'MaildirStore local', `Path ${maildir}/`, `Inbox ${maildir}/INBOX`, '',
      'Channel inbox', 'Far :remote:', 'Near :local:', 'Patterns INBOX', 'Sync All', 'Create Both', 'Expunge None', 'SyncState *', '',
    ].join('\n'));
    const sync = async (): Promise<void> => {
      const r = await run('mbsync', ['-c', rc, '-a']);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
    };
    const started = Date.now();
    await sync();
    process.stdout.write(`      (first sync of ${BULK_MESSAGES} messages: ${Date.now() - started} ms)\n`);
    const curDir = join(maildir, 'INBOX', 'cur');
    const newDir = join(maildir, 'INBOX', 'new');
    const files = [...readdirSync(curDir).map((f) => join(curDir, f)), ...readdirSync(newDir).map((f) => join(newDir, f))];
    expect(files).to.have.length(BULK_MESSAGES);
    const subjects = new Set(files.map((f) => /^Subject: (.*)$/m.exec(readFileSync(f, 'latin1'))?.[1]));
    expect(subjects.size).to.equal(BULK_MESSAGES);
    expect(subjects.has('bulk 0') && subjects.has(`bulk ${BULK_MESSAGES - 1}`)).to.equal(true);

    // Up: ten read on the laptop, and two written there.
    for (const f of readdirSync(newDir)) renameSync(join(newDir, f), join(curDir, `${f}:2,`));
    const read = readdirSync(curDir).filter((f) => /^Subject: bulk [0-9]$/m.test(readFileSync(join(curDir, f), 'latin1')));
    expect(read).to.have.length(10);
    for (const f of read) renameSync(join(curDir, f), join(curDir, f.replace(/:2,.*$/, ':2,S')));
    for (const n of [1, 2]) writeFileSync(join(newDir, `1700000000.up${n}.host`), `From: bulk@localhost\nTo: bulk@localhost\nSubject: from the laptop ${n}\n\nup\n`);
    await sync();
    const counts = (await bulk.request('GET', '/api/mail/folders')).json().folders.find((f: { name: string }) => f.name === 'inbox');
    expect(counts.total).to.equal(BULK_MESSAGES + 2);
    expect(counts.unread).to.equal(BULK_MESSAGES + 2 - 10);
  });
});
