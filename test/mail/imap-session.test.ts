import { expect } from 'chai';
import { CommandFramer, parseCommand, LINE_BYTES_MAX } from '../../lib/mail/imap-parser.js';
import { ImapSession } from '../../lib/mail/imap-session.js';
import { MemoryStore } from './imap-memory-store.js';

const HELLO = 'From: Bob Lee <bob@example.org>\r\nTo: alice@localhost\r\nSubject: hello there\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n\r\nfirst line\r\nsecond line\r\n';
const MIXED = [
  'From: carol@example.org', 'To: alice@localhost', 'Subject: with attachment', 'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"', '', 'preamble', '--b1', 'Content-Type: text/plain; charset=utf-8', '',
  'body text', '--b1', 'Content-Type: application/octet-stream; name="a.bin"', 'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="a.bin"', '', 'AAEC', '--b1--', '',
].join('\n');

/** Feeds `input` through the framer and the session as the shell would; returns every reply byte as text. */
async function talk(session: ImapSession, input: string, framer = new CommandFramer(1000)): Promise<string> {
  let out = '';
  for (const event of framer.push(Buffer.from(input, 'utf8'))) {
    if (event.kind === 'continue') out += '+ go ahead\r\n';
    else if (event.kind === 'too-big') out += `${event.tag ?? '*'} ${event.fatal ? 'BYE' : 'NO'} ${event.text}\r\n`;
    else {
      const reply = await session.handle(event.bytes);
      for await (const chunk of reply.chunks) out += chunk.toString('latin1');
    }
  }
  return out;
}

function setup(options: { tls?: boolean; failedLoginsMax?: number } = {}): { store: MemoryStore; session: ImapSession } {
  const store = new MemoryStore();
  const session = new ImapSession({ store, remoteAddress: '127.0.0.1', failedLoginsMax: options.failedLoginsMax ?? 3, tlsAvailable: () => options.tls ?? false });
  return { store, session };
}

async function loggedIn(): Promise<{ store: MemoryStore; session: ImapSession }> {
  const s = setup();
  expect(await talk(s.session, 'a LOGIN alice "open sesame"\r\n')).to.match(/^a OK /);
  return s;
}

describe('imap: command framing and tokens (RFC 3501 §9, RFC 7888)', () => {
  it('gives a command whole only when its synchronising literal has come, asking for it with a continuation', () => {
    const framer = new CommandFramer(100);
    expect(framer.push(Buffer.from('a LOGIN {5}\r\n'))).to.deep.equal([{ kind: 'continue' }]);
    expect(framer.push(Buffer.from('al'))).to.deep.equal([]);
    const events = framer.push(Buffer.from('ice "pw"\r\nb NOOP\r\n'));
    expect(events.map((e) => e.kind)).to.deep.equal(['command', 'command']);
    const login = parseCommand((events[0] as { bytes: Buffer }).bytes);
    expect(login.name).to.equal('LOGIN');
    expect(login.args.map((t) => (t.kind === 'string' ? t.value.toString() : t.kind))).to.deep.equal(['alice', 'pw']);
  });

  it('takes a LITERAL+ literal without a continuation, and keeps CRLF inside it', () => {
    const framer = new CommandFramer(100);
    const events = framer.push(Buffer.from('a APPEND INBOX {7+}\r\nx\r\ny\r\nz\r\n'));
    expect(events.map((e) => e.kind)).to.deep.equal(['command']);
    const c = parseCommand((events[0] as { bytes: Buffer }).bytes);
    expect(c.args[1]).to.deep.equal({ kind: 'string', value: Buffer.from('x\r\ny\r\nz') });
  });

  it('refuses a synchronising literal over the limit before its octets, and a LITERAL+ one by closing', () => {
    expect(new CommandFramer(10).push(Buffer.from('a APPEND INBOX {11}\r\n'))).to.deep.equal([
      { kind: 'too-big', tag: 'a', text: 'a literal of 11 octets is over the limit of 10', fatal: false },
    ]);
    const plus = new CommandFramer(10).push(Buffer.from('a APPEND INBOX {11+}\r\n0123456789A\r\n'));
    expect(plus).to.deep.equal([{ kind: 'too-big', tag: 'a', text: 'a literal of 11 octets is over the limit of 10', fatal: true }]);
  });

  it('refuses a line longer than LINE_BYTES_MAX whole, and an endless one as it grows', () => {
    const framer = new CommandFramer(10);
    const long = `a NOOP ${'x'.repeat(LINE_BYTES_MAX)}\r\nb NOOP\r\n`;
    expect(framer.push(Buffer.from(long)).map((e) => [e.kind, 'tag' in e ? e.tag : null])).to.deep.equal([['too-big', 'a'], ['command', null]]);
    expect(new CommandFramer(10).push(Buffer.alloc(LINE_BYTES_MAX + 1, 0x61))[0]).to.include({ kind: 'too-big', fatal: true });
  });

  it('keeps BODY[HEADER.FIELDS (A B)]<0.10> one atom', () => {
    const c = parseCommand(Buffer.from('t FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]<0.10>)\r\n'));
    expect(c.args[1]).to.deep.equal({ kind: 'list', items: [{ kind: 'atom', value: 'UID' }, { kind: 'atom', value: 'BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]<0.10>' }] });
  });
});

describe('imap: the session state machine (RFC 3501)', () => {
  it('greets with its capabilities and starts NOT AUTHENTICATED; LOGOUT says BYE', async () => {
    const { session } = setup();
    expect(session.greeting().toString()).to.match(/^\* OK \[CAPABILITY IMAP4rev1 [^\]]*AUTH=PLAIN[^\]]*\] /);
    expect(session.state).to.equal('NOT AUTHENTICATED');
    expect(await talk(session, 'a CAPABILITY\r\n')).to.match(/^\* CAPABILITY IMAP4rev1 LITERAL\+ SASL-IR ID IDLE MOVE UIDPLUS SPECIAL-USE NAMESPACE UNSELECT AUTH=PLAIN\r\na OK/);
    expect(await talk(session, 'i ID ("name" "Thunderbird")\r\n')).to.equal('* ID ("name" "PennCloud")\r\ni OK ID completed\r\n');
    expect(await talk(session, 'z LOGOUT\r\n')).to.equal('* BYE PennCloud IMAP server signing off\r\nz OK LOGOUT completed\r\n');
    expect(session.state).to.equal('LOGOUT');
  });

  it('refuses commands of later states before logging in, and a wrong password with AUTHENTICATIONFAILED, closing after the last try', async () => {
    const { session } = setup({ failedLoginsMax: 2 });
    expect(await talk(session, 'a SELECT INBOX\r\n')).to.match(/^a BAD SELECT is not valid before logging in/);
    expect(await talk(session, 'b LOGIN alice wrong\r\n')).to.equal('b NO [AUTHENTICATIONFAILED] invalid user name or password\r\n');
    const reply = await session.handle(Buffer.from('c LOGIN alice wrong\r\n'));
    expect(reply.after).to.equal('close');
  });

  it('logs in with AUTHENTICATE PLAIN, with an initial response (SASL-IR) and after a continuation', async () => {
    const creds = Buffer.from('\0alice\0open sesame').toString('base64');
    const a = setup();
    expect(await talk(a.session, `a AUTHENTICATE PLAIN ${creds}\r\n`)).to.match(/^a OK \[CAPABILITY [^\]]+\] logged in as alice\r\n$/);
    const b = setup();
    expect(await talk(b.session, `a AUTHENTICATE PLAIN\r\n${creds}\r\n`)).to.match(/^\+ \r\na OK /);
    expect(b.session.state).to.equal('AUTHENTICATED');
  });

  it('tells a throttled log-in to wait, in the words of the throttle', async () => {
    const { store, session } = setup();
    store.throttled = true;
    expect(await talk(session, 'a LOGIN alice "open sesame"\r\n')).to.equal('a NO [UNAVAILABLE] too many failed log-ins for "alice"; try again in 60 s\r\n');
  });

  it('with TLS available, offers STARTTLS and LOGINDISABLED and refuses a password before it', async () => {
    const { session } = setup({ tls: true });
    expect(await talk(session, 'a CAPABILITY\r\n')).to.contain('STARTTLS LOGINDISABLED').and.not.contain('AUTH=PLAIN');
    expect(await talk(session, 'b LOGIN alice "open sesame"\r\n')).to.match(/^b NO \[PRIVACYREQUIRED\] /);
    expect((await session.handle(Buffer.from('c STARTTLS\r\n'))).after).to.equal('start-tls');
  });

  it('lists the four folders with their SPECIAL-USE attributes, and only those with (SPECIAL-USE)', async () => {
    const { session } = await loggedIn();
    expect(await talk(session, 'a LIST "" "*"\r\n')).to.equal([
      '* LIST (\\HasNoChildren) "/" INBOX', '* LIST (\\HasNoChildren \\Drafts) "/" Drafts', '* LIST (\\HasNoChildren \\Sent) "/" Sent',
      '* LIST (\\HasNoChildren \\Trash) "/" Trash', 'a OK LIST completed', ''].join('\r\n'));
    const special = await talk(session, 'b LIST (SPECIAL-USE) "" "*"\r\n');
    expect(special).to.contain('\\Sent');
    expect(special).to.not.contain('INBOX');
    expect(await talk(session, 'c LIST "" ""\r\n')).to.equal('* LIST (\\Noselect) "/" ""\r\nc OK LIST completed\r\n');
    expect(await talk(session, 'd LSUB "" "%"\r\n')).to.contain('* LSUB (\\HasNoChildren \\Trash) "/" Trash');
  });

  it('SELECT reports EXISTS, RECENT, FLAGS, UNSEEN, UIDVALIDITY and UIDNEXT; STATUS counts without selecting', async () => {
    const { store, session } = await loggedIn();
    store.deliver('inbox', HELLO, { seen: true });
    store.deliver('inbox', HELLO);
    expect(await talk(session, 'a STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)\r\n')).to.equal('* STATUS INBOX (MESSAGES 2 UNSEEN 1 UIDNEXT 3 UIDVALIDITY 1700000000)\r\na OK STATUS completed\r\n');
    const reply = await talk(session, 'b SELECT inbox\r\n');
    expect(reply).to.contain('* 2 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n');
    expect(reply).to.contain('* OK [UNSEEN 2]').and.contain('* OK [UIDVALIDITY 1700000000]').and.contain('* OK [UIDNEXT 3]');
    expect(reply).to.match(/b OK \[READ-WRITE\] SELECT completed\r\n$/);
    expect(session.state).to.equal('SELECTED');
    expect(await talk(session, 'c SELECT Archive\r\n')).to.match(/^c NO no folder "Archive"/);
    expect(session.state).to.equal('AUTHENTICATED');
  });

  it('FETCH gives flags, sizes, dates, the envelope and exact body sections; BODY[] marks the message seen, BODY.PEEK[] does not', async () => {
    const { store, session } = await loggedIn();
    const m = store.deliver('inbox', HELLO);
    await talk(session, 'a SELECT INBOX\r\n');
    expect(await talk(session, 'b FETCH 1 (UID FLAGS RFC822.SIZE INTERNALDATE)\r\n')).to.equal(`* 1 FETCH (UID 1 FLAGS () RFC822.SIZE ${HELLO.length} INTERNALDATE "07-Dec-2026 10:00:00 +0000")\r\nb OK FETCH completed\r\n`);
    expect(await talk(session, 'c FETCH 1 ENVELOPE\r\n')).to.equal('* 1 FETCH (ENVELOPE ("Mon, 07 Dec 2026 10:00:00 +0000" "hello there" (("Bob Lee" NIL "bob" "example.org")) (("Bob Lee" NIL "bob" "example.org")) (("Bob Lee" NIL "bob" "example.org")) ((NIL NIL "alice" "localhost")) NIL NIL NIL "<m1@example.org>"))\r\nc OK FETCH completed\r\n');
    expect(await talk(session, 'd FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT]<6.6>)\r\n')).to.equal('* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {24}\r\nSubject: hello there\r\n\r\n BODY[TEXT]<6> {6}\r\nline\r\n)\r\nd OK FETCH completed\r\n');
    expect(store.find(m.id).item.message.seen).to.equal(false);
    const full = await talk(session, 'e UID FETCH 1 BODY[]\r\n');
    expect(full).to.equal(`* 1 FETCH (UID 1 BODY[] {${HELLO.length}}\r\n${HELLO} FLAGS (\\Seen))\r\ne OK UID FETCH completed\r\n`);
    expect(store.find(m.id).item.message.seen).to.equal(true);
  });

  it('BODYSTRUCTURE describes a multipart message, and BODY[2] and BODY[1.MIME] give its parts', async () => {
    const { store, session } = await loggedIn();
    store.deliver('inbox', MIXED);
    await talk(session, 'a EXAMINE INBOX\r\n');
    expect(await talk(session, 'b FETCH 1 BODYSTRUCTURE\r\n')).to.equal('* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 9 1 NIL NIL NIL)("APPLICATION" "OCTET-STREAM" ("NAME" "a.bin") NIL NIL "BASE64" 4 NIL ("ATTACHMENT" ("FILENAME" "a.bin")) NIL) "MIXED" ("BOUNDARY" "b1") NIL NIL))\r\nb OK FETCH completed\r\n');
    expect(await talk(session, 'c FETCH 1 (BODY[2] BODY[1.MIME])\r\n')).to.equal('* 1 FETCH (BODY[2] {4}\r\nAAEC BODY[1.MIME] {43}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n)\r\nc OK FETCH completed\r\n');
    // EXAMINE is read-only: a fetch of BODY[] does not set \Seen, and STORE is refused.
    expect(await talk(session, 'd FETCH 1 (BODY[1] FLAGS)\r\n')).to.equal('* 1 FETCH (BODY[1] {9}\r\nbody text FLAGS ())\r\nd OK FETCH completed\r\n');
    expect(await talk(session, 'e STORE 1 +FLAGS (\\Flagged)\r\n')).to.match(/^e NO /);
  });

  it('STORE sets, adds and removes flags (silently too), and SEARCH finds by flag, sender, subject, date and UID', async () => {
    const { store, session } = await loggedIn();
    store.deliver('inbox', HELLO, { arrivedMs: Date.UTC(2026, 0, 5) });
    store.deliver('inbox', 'From: carol@example.org\r\nSubject: lunch\r\n\r\nnoon?\r\n', { arrivedMs: Date.UTC(2026, 5, 1) });
    await talk(session, 'a SELECT INBOX\r\n');
    expect(await talk(session, 'b STORE 1 +FLAGS (\\Seen \\Flagged $Work)\r\n')).to.equal('* 1 FETCH (FLAGS (\\Seen \\Flagged $Work))\r\nb OK STORE completed\r\n');
    expect(await talk(session, 'c UID STORE 1 -FLAGS.SILENT (\\Flagged)\r\n')).to.equal('c OK UID STORE completed\r\n');
    expect(await talk(session, 'd FETCH 1 FLAGS\r\n')).to.equal('* 1 FETCH (FLAGS (\\Seen $Work))\r\nd OK FETCH completed\r\n');
    const search = async (keys: string): Promise<string> => (await talk(session, `s SEARCH ${keys}\r\n`)).split('\r\n')[0]!;
    expect(await search('UNSEEN')).to.equal('* SEARCH 2');
    expect(await search('SEEN')).to.equal('* SEARCH 1');
    expect(await search('FROM "bob lee"')).to.equal('* SEARCH 1');
    expect(await search('SUBJECT LUNCH')).to.equal('* SEARCH 2');
    expect(await search('SINCE 1-Feb-2026')).to.equal('* SEARCH 2');
    expect(await search('OR KEYWORD $Work BODY noon')).to.equal('* SEARCH 1 2');
    expect(await search('NOT UID 2')).to.equal('* SEARCH 1');
    expect(await search('CHARSET UTF-8 ALL')).to.equal('* SEARCH 1 2');
    expect((await talk(session, 'u UID SEARCH 2:*\r\n')).split('\r\n')[0]).to.equal('* SEARCH 2');
    expect(await talk(session, 'x SEARCH SINCE yesterday\r\n')).to.match(/^x BAD SINCE needs a date/);
    expect(await talk(session, 'y FETCH 3 FLAGS\r\n')).to.match(/^y BAD there are only 2 messages/);
  });

  it('EXPUNGE removes \\Deleted messages, told highest number first; MOVE to Trash expunges here', async () => {
    const { store, session } = await loggedIn();
    for (let i = 0; i < 4; i++) store.deliver('inbox', HELLO);
    await talk(session, 'a SELECT INBOX\r\n');
    await talk(session, 'b STORE 2,4 +FLAGS.SILENT (\\Deleted)\r\n');
    expect(await talk(session, 'c EXPUNGE\r\n')).to.equal('* 4 EXPUNGE\r\n* 2 EXPUNGE\r\nc OK EXPUNGE completed\r\n');
    expect(await talk(session, 'd MOVE 1 Trash\r\n')).to.equal('* OK [COPYUID 1700000000 1 1] moved\r\n* 1 EXPUNGE\r\nd OK MOVE completed\r\n');
    expect(store.folders.get('inbox')!.items).to.have.length(1);
    expect(store.folders.get('trash')!.items).to.have.length(1);
    expect(await talk(session, 'e COPY 1 Sent\r\n')).to.equal('e OK [COPYUID 1700000000 3 1] COPY completed\r\n');
    await talk(session, 'g APPEND INBOX {1+}\r\nx\r\nh APPEND INBOX {1+}\r\ny\r\ni NOOP\r\n');
    await talk(session, 'j STORE 1:* +FLAGS.SILENT (\\Deleted)\r\n');
    // RFC 4315 UID EXPUNGE: only the \Deleted messages of the set go.
    expect(await talk(session, 'k UID EXPUNGE 5\r\n')).to.equal('* 2 EXPUNGE\r\nk OK UID EXPUNGE completed\r\n');
    expect(await talk(session, 'f COPY 1 Archive\r\n')).to.match(/^f NO \[TRYCREATE\]/);
  });

  it('APPEND stores a message with its flags and date, after a continuation for its literal', async () => {
    const { store, session } = await loggedIn();
    const text = 'Subject: saved\r\n\r\nmy sent copy\r\n';
    expect(await talk(session, `a APPEND Sent (\\Seen) "05-Jan-2026 08:30:00 +0100" {${text.length}}\r\n${text}\r\n`)).to.equal('+ go ahead\r\na OK [APPENDUID 1700000000 1] APPEND completed\r\n');
    const saved = store.folders.get('sent')!.items[0]!;
    expect(saved.raw.toString()).to.equal(text);
    expect(saved.message).to.include({ seen: true, arrivedMs: Date.UTC(2026, 0, 5, 7, 30) });
    expect(await talk(session, 'b APPEND Outbox {1+}\r\nx\r\n')).to.match(/^b NO \[TRYCREATE\]/);
  });

  it('tells changes made elsewhere: new mail as EXISTS, read state as FETCH FLAGS, and removals as EXPUNGE only at NOOP', async () => {
    const { store, session } = await loggedIn();
    const first = store.deliver('inbox', HELLO);
    store.deliver('inbox', HELLO);
    await talk(session, 'a SELECT INBOX\r\n');
    store.remove(first.id);
    store.setSeen(store.folders.get('inbox')!.items[0]!.message.id, true);
    store.deliver('inbox', HELLO);
    // RFC 3501 §7.4.1: no EXPUNGE while FETCH numbers must hold still.
    const fetch = await talk(session, 'b FETCH 1:* UID\r\n');
    expect(fetch).to.equal('* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n* 3 EXISTS\r\n* 1 RECENT\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\nb OK FETCH completed\r\n');
    expect(await talk(session, 'c NOOP\r\n')).to.equal('* 1 EXPUNGE\r\nc OK NOOP completed\r\n');
    // A message number that only the news makes valid is taken; past it, BAD comes after the news.
    store.deliver('inbox', HELLO);
    expect(await talk(session, 'd FETCH 3 FLAGS\r\n')).to.equal('* 3 EXISTS\r\n* 2 RECENT\r\n* 3 FETCH (FLAGS (\\Recent))\r\nd OK FETCH completed\r\n');
    store.deliver('inbox', HELLO);
    expect(await talk(session, 'e FETCH 5 FLAGS\r\n')).to.equal('* 4 EXISTS\r\n* 3 RECENT\r\ne BAD there are only 4 messages\r\n');
  });

  it('IDLE answers with a continuation, pushes news while idling and ends at DONE', async () => {
    const { store, session } = await loggedIn();
    await talk(session, 'a SELECT INBOX\r\n');
    const idle = await session.handle(Buffer.from('b IDLE\r\n'));
    expect(idle.after).to.equal('idle');
    expect(session.idling).to.equal(true);
    expect(Buffer.concat([...(idle.chunks as Buffer[])]).toString()).to.equal('+ idling\r\n');
    expect(await session.idleNews()).to.deep.equal([]);
    store.deliver('inbox', HELLO);
    expect(Buffer.concat(await session.idleNews()).toString()).to.equal('* 1 EXISTS\r\n* 1 RECENT\r\n');
    expect(await talk(session, 'DONE\r\n')).to.equal('b OK IDLE terminated\r\n');
    expect(session.idling).to.equal(false);
  });

  it('answers bad syntax with a tagged BAD naming the problem', async () => {
    const { session } = await loggedIn();
    expect(await talk(session, 'a SELECT "INBOX\r\n')).to.match(/^a BAD a quoted string is not closed/);
    expect(await talk(session, '\r\n')).to.match(/^\* BAD a command is a tag/);
    await talk(session, 'b SELECT INBOX\r\n');
    expect(await talk(session, 'c FETCH x FLAGS\r\n')).to.match(/^c BAD "x" is not a sequence set/);
    expect(await talk(session, 'd FETCH 1:* (FLAGS BOGUS)\r\n')).to.match(/^d BAD "BOGUS" is not a fetch data item/);
    expect(await talk(session, 'e STORE 1:* +FLAGS (\\Bogus)\r\n')).to.match(/^e BAD \\Bogus is not a system flag/);
    expect(await talk(session, 'f CREATE Archive\r\n')).to.match(/^f NO \[CANNOT\] the folders are fixed/);
  });
});
