import { expect } from 'chai';
import { PennError } from '../../lib/protocol/errors.js';
import type { Maildrop, MaildropProvider } from '../../lib/mail/pop3-maildrop.js';
import { Pop3Session } from '../../lib/mail/pop3-session.js';
import { stuffMessage, wireSize } from '../../lib/mail/pop3-replies.js';

/** A maildrop over plain arrays: the engine's contract, with what it did recorded. */
class ArrayMaildrop implements Maildrop {
  readonly seen: number[] = [];
  removed: string[] = [];
  released = false;
  readonly messages;
  constructor(readonly bodies: Buffer[]) {
    this.messages = bodies.map((b, i) => ({ uid: `uid-${i + 1}`, size: wireSize(b) }));
  }
  async read(index: number): Promise<Buffer> { return this.bodies[index]!; }
  async markSeen(index: number): Promise<void> { this.seen.push(index); }
  async remove(uids: readonly string[]): Promise<void> { this.removed = [...uids]; }
  async release(): Promise<void> { this.released = true; }
}

const MESSAGES = [
  Buffer.from('From: a@x\r\nSubject: one\r\n\r\nhello\r\n.hidden dot\r\nbye\r\n'),
  Buffer.from('From: b@x\nSubject: two\n\nbare LF lines\nsecond\n'),
  Buffer.from('Subject: three\r\n\r\nline 1\r\nline 2\r\nline 3\r\n'),
];

function setup(options: { failedLoginsMax?: number; busy?: boolean; throttled?: boolean } = {}): { session: Pop3Session; drop: ArrayMaildrop } {
  const drop = new ArrayMaildrop(MESSAGES);
  const provider: MaildropProvider = {
    authenticate: async (user, pass) => {
      if (options.throttled) throw new PennError('RATE_LIMITED', 'too many failed log-ins for "alice"; try again in 60 s');
      return user === 'alice' && pass === 'open sesame';
    },
    open: async () => {
      if (options.busy) throw new PennError('CONFLICT', 'locked');
      return drop;
    },
  };
  const session = new Pop3Session({
    provider, remoteAddress: '127.0.0.1', failedLoginsMax: options.failedLoginsMax ?? 3,
    tlsAvailable: () => false, implementation: 'PennCloud',
  });
  return { session, drop };
}

/** Runs commands and returns the whole transcript of replies as text. */
async function transcript(session: Pop3Session, lines: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const line of lines) out.push(Buffer.concat((await session.handle(line)).chunks).toString('latin1'));
  return out;
}

describe('pop3: the session state machine (RFC 1939, 2449, 5034)', () => {
  it('greets without a timestamp, so clients do not attempt APOP', () => {
    expect(setup().session.greeting().toString()).to.match(/^\+OK [^<>]*\r\n$/);
  });

  it('logs in with USER/PASS (a password with spaces) and reports STAT', async () => {
    const { session } = setup();
    const [user, pass, stat] = await transcript(session, ['USER alice', 'PASS open sesame', 'STAT']);
    expect(user).to.match(/^\+OK/);
    expect(pass).to.match(/^\+OK alice has 3 message/);
    const total = MESSAGES.reduce((n, m) => n + wireSize(m), 0);
    expect(stat).to.equal(`+OK 3 ${total}\r\n`);
    expect(session.state).to.equal('TRANSACTION');
  });

  it('logs in with AUTH PLAIN, with and without an initial response', async () => {
    const creds = Buffer.from('\0alice\0open sesame').toString('base64');
    const a = setup();
    expect((await transcript(a.session, [`AUTH PLAIN ${creds}`]))[0]).to.match(/^\+OK/);
    const b = setup();
    const [cont, done] = await transcript(b.session, ['AUTH PLAIN', creds]);
    expect(cont).to.equal('+ \r\n');
    expect(done).to.match(/^\+OK/);
    const c = setup();
    const [, cancelled] = await transcript(c.session, ['AUTH PLAIN', '*']);
    expect(cancelled).to.match(/^-ERR/);
    expect(c.session.state).to.equal('AUTHORIZATION');
  });

  it('refuses bad passwords with [AUTH] and closes after the limit', async () => {
    const { session } = setup({ failedLoginsMax: 2 });
    let r = await session.handle('USER alice');
    r = await session.handle('PASS wrong');
    expect(Buffer.concat(r.chunks).toString()).to.match(/^-ERR \[AUTH\]/);
    expect(r.after).to.equal('continue');
    r = await session.handle(`AUTH PLAIN ${Buffer.from('\0alice\0nope').toString('base64')}`);
    expect(r.after).to.equal('close');
  });

  it('says [IN-USE] when the maildrop is held by another session', async () => {
    const { session } = setup({ busy: true });
    const [, pass] = await transcript(session, ['USER alice', 'PASS open sesame']);
    expect(pass).to.match(/^-ERR \[IN-USE\]/);
  });

  it('lists sizes and stable unique ids, whole and per message', async () => {
    const { session } = setup();
    const [, , list, one, uidl, uidOne, missing] = await transcript(session,
      ['USER alice', 'PASS open sesame', 'LIST', 'LIST 2', 'UIDL', 'UIDL 3', 'LIST 9']);
    expect(list).to.equal(`+OK 3 messages\r\n1 ${wireSize(MESSAGES[0]!)}\r\n2 ${wireSize(MESSAGES[1]!)}\r\n3 ${wireSize(MESSAGES[2]!)}\r\n.\r\n`);
    expect(one).to.equal(`+OK 2 ${wireSize(MESSAGES[1]!)}\r\n`);
    expect(uidl).to.equal('+OK unique-id listing follows\r\n1 uid-1\r\n2 uid-2\r\n3 uid-3\r\n.\r\n');
    expect(uidOne).to.equal('+OK 3 uid-3\r\n');
    expect(missing).to.match(/^-ERR no message 9/);
  });

  it('RETR dot-stuffs, ends lines in CRLF, and marks the message seen', async () => {
    const { session, drop } = setup();
    const [, , first, second] = await transcript(session, ['USER alice', 'PASS open sesame', 'RETR 1', 'RETR 2']);
    expect(first).to.equal(`+OK ${wireSize(MESSAGES[0]!)} octets\r\nFrom: a@x\r\nSubject: one\r\n\r\nhello\r\n..hidden dot\r\nbye\r\n.\r\n`);
    expect(second).to.equal(`+OK ${wireSize(MESSAGES[1]!)} octets\r\nFrom: b@x\r\nSubject: two\r\n\r\nbare LF lines\r\nsecond\r\n.\r\n`);
    expect(drop.seen).to.deep.equal([0, 1]);
  });

  it('the size LIST reports is the number of octets RETR sends before the terminator', () => {
    for (const m of MESSAGES) {
      const body = Buffer.concat(stuffMessage(m)).toString('latin1').slice(0, -3).replace(/\r\n\.\./g, '\r\n.');
      expect(Buffer.byteLength(body, 'latin1')).to.equal(wireSize(m));
    }
  });

  it('TOP sends the header and n body lines', async () => {
    const { session } = setup();
    const [, , top] = await transcript(session, ['USER alice', 'PASS open sesame', 'TOP 3 2']);
    expect(top).to.equal('+OK top of message follows\r\nSubject: three\r\n\r\nline 1\r\nline 2\r\n.\r\n');
  });

  it('DELE hides a message, RSET brings it back, and only QUIT removes for good', async () => {
    const { session, drop } = setup();
    const lines = await transcript(session, ['USER alice', 'PASS open sesame', 'DELE 2', 'RETR 2', 'STAT', 'RSET', 'STAT', 'DELE 1', 'DELE 3', 'QUIT']);
    expect(lines[3]).to.match(/^-ERR message 2 already deleted/);
    expect(lines[4]).to.match(/^\+OK 2 /);
    expect(lines[6]).to.match(/^\+OK 3 /);
    expect(lines[9]).to.match(/^\+OK .*2 message\(s\) deleted/);
    expect(drop.removed).to.deep.equal(['uid-1', 'uid-3']);
    expect(drop.released).to.equal(true);
  });

  it('a session abandoned without QUIT deletes nothing', async () => {
    const { session, drop } = setup();
    await transcript(session, ['USER alice', 'PASS open sesame', 'DELE 1']);
    await session.abandon();
    expect(drop.removed).to.deep.equal([]);
    expect(drop.released).to.equal(true);
  });

  it('answers CAPA in both states and refuses commands out of state', async () => {
    const { session } = setup();
    const [capa, stat] = await transcript(session, ['CAPA', 'STAT']);
    expect(capa).to.contain('\r\nUSER\r\n').and.contain('\r\nUIDL\r\n').and.contain('\r\nTOP\r\n')
      .and.contain('\r\nSASL PLAIN\r\n').and.contain('\r\nPIPELINING\r\n').and.contain('\r\nRESP-CODES\r\n');
    expect(capa).to.not.contain('STLS');
    expect(stat).to.match(/^-ERR STAT is not valid before logging in/);
  });

  it('a user locked out by the login throttle gets an [AUTH] error naming the lock-out and the wait, not an internal error', async () => {
    const { session } = setup({ throttled: true });
    const [, pass] = await transcript(session, ['USER alice', 'PASS open sesame']);
    expect(pass).to.equal('-ERR [AUTH] too many failed log-ins for "alice"; try again in 60 s\r\n');
    expect(session.state).to.equal('AUTHORIZATION');
  });
});
