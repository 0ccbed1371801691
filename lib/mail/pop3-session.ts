/**
 * One POP3 conversation (RFC 1939, with RFC 2449 CAPA and RFC 5034 AUTH PLAIN) as a state
 * machine: a command line in, reply bytes out. The states are the RFC's: AUTHORIZATION,
 * TRANSACTION and UPDATE. The shell (pop3-server.ts) owns the socket, the timers and TLS.
 */
import { isPennError } from '../protocol/errors.js';
import type { Maildrop, MaildropProvider } from './pop3-maildrop.js';
import { err, multiLine, ok, stuffMessage } from './pop3-replies.js';

export type Pop3State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

export interface Pop3Options {
  provider: MaildropProvider;
  remoteAddress: string;
  /** Failed USER/PASS or AUTH attempts before the connection is closed. */
  failedLoginsMax: number;
  /**
   * Offer STLS (a certificate is configured and the connection is not yet secure). While it
   * is offered, logging in is refused: passwords go only over TLS when TLS is set up.
   */
  tlsAvailable: () => boolean;
  /** The server's name and version for CAPA IMPLEMENTATION. */
  implementation: string;
}

/** What the shell does after writing a reply. */
export type AfterReply = 'continue' | 'close' | 'start-tls';

export interface Pop3Reply {
  chunks: Buffer[];
  after: AfterReply;
}

/** Longest command line accepted (RFC 2449 §4 allows 255 octets; AUTH PLAIN needs a bit more). */
export const COMMAND_LINE_BYTES_MAX = 1024;

export class Pop3Session {
  state: Pop3State = 'AUTHORIZATION';
  private user: string | null = null;
  private failedLogins = 0;
  private maildrop: Maildrop | null = null;
  private readonly deleted = new Set<number>();
  /** Set while AUTH PLAIN waits for its response line (RFC 5034 §4). */
  private awaitingSaslResponse = false;

  constructor(private readonly options: Pop3Options) {}

  /** The greeting: no timestamp, so clients do not try APOP. */
  greeting(): Buffer {
    return ok('PennCloud POP3 server ready');
  }

  /** Handles one command line (without its CRLF). */
  async handle(line: string): Promise<Pop3Reply> {
    if (this.awaitingSaslResponse) {
      this.awaitingSaslResponse = false;
      if (line === '*') return reply(err('authentication cancelled'));
      return this.authPlain(line);
    }
    const space = line.indexOf(' ');
    const keyword = (space === -1 ? line : line.slice(0, space)).toUpperCase();
    const args = space === -1 ? [] : line.slice(space + 1).split(' ').filter((a) => a !== '');
    try {
      if (keyword === 'CAPA') return reply(this.capabilities());
      if (keyword === 'QUIT') return this.quit();
      if (keyword === 'NOOP' && this.state === 'TRANSACTION') return reply(ok());
      return this.state === 'AUTHORIZATION' ? await this.authorization(keyword, args, line) : await this.transaction(keyword, args);
    } catch (e) {
      if (isPennError(e, 'UNAVAILABLE') || isPennError(e, 'TIMEOUT')) return reply(err('the mail store is unavailable, try again later', 'SYS/TEMP'));
      throw e;
    }
  }

  /** The connection ended without QUIT: nothing is deleted (RFC 1939 §6). */
  async abandon(): Promise<void> {
    const drop = this.maildrop;
    this.maildrop = null;
    if (drop !== null) await drop.release();
  }

  private capabilities(): Buffer {
    const tlsFirst = this.state === 'AUTHORIZATION' && this.options.tlsAvailable();
    // RFC 2595 §4: before STLS, only STLS is offered as a way in.
    const lines = [...(tlsFirst ? [] : ['USER']), 'UIDL', 'TOP', ...(tlsFirst ? [] : ['SASL PLAIN']), 'PIPELINING', 'RESP-CODES', 'AUTH-RESP-CODE'];
    if (tlsFirst) lines.push('STLS');
    lines.push(`IMPLEMENTATION ${this.options.implementation}`);
    return multiLine(ok('Capability list follows'), lines);
  }

  private async authorization(keyword: string, args: string[], line: string): Promise<Pop3Reply> {
    if ((keyword === 'USER' || keyword === 'PASS' || keyword === 'AUTH') && this.options.tlsAvailable()) {
      return reply(err('send STLS first: passwords are accepted only over TLS'));
    }
    switch (keyword) {
      case 'USER':
        if (args.length !== 1) return reply(err('usage: USER name'));
        this.user = args[0]!;
        return reply(ok('send PASS'));
      case 'PASS': {
        if (this.user === null) return reply(err('send USER first'));
        // RFC 1939 §7: the password may contain spaces; it is the rest of the line.
        const password = line.slice(line.indexOf(' ') + 1);
        if (line.indexOf(' ') === -1) return reply(err('usage: PASS password'));
        const user = this.user;
        this.user = null;
        return this.login(user, password);
      }
      case 'AUTH': {
        if (args.length === 0) return reply(multiLine(ok('supported mechanisms'), ['PLAIN']));
        if (args[0]!.toUpperCase() !== 'PLAIN') return reply(err('only PLAIN is supported'));
        if (args.length === 2) return this.authPlain(args[1]!);
        this.awaitingSaslResponse = true;
        return reply(Buffer.from('+ \r\n'));
      }
      case 'STLS':
        if (!this.options.tlsAvailable()) return reply(err('TLS is not available'));
        return { chunks: [ok('begin TLS negotiation')], after: 'start-tls' };
      default:
        return reply(err(`${keyword || 'empty command'} is not valid before logging in`));
    }
  }

  /** RFC 4616: base64 of authzid NUL authcid NUL passwd; "=" is an empty initial response. */
  private async authPlain(encoded: string): Promise<Pop3Reply> {
    const decoded = encoded === '=' ? '' : Buffer.from(encoded, 'base64').toString('utf8');
    const parts = decoded.split('\0');
    if (parts.length !== 3 || parts[1] === '' || (parts[0] !== '' && parts[0] !== parts[1])) {
      return this.refuse('malformed or unsupported PLAIN credentials');
    }
    return this.login(parts[1]!, parts[2]!);
  }

  private async login(user: string, password: string): Promise<Pop3Reply> {
    let valid: boolean;
    try {
      valid = await this.options.provider.authenticate(user, password, this.options.remoteAddress);
    } catch (e) {
      // A lock-out after failed log-ins is an answer about authentication (RFC 3206 §4: AUTH),
      // and its text says how long to wait.
      if (isPennError(e, 'RATE_LIMITED')) return reply(err(e.message, 'AUTH'));
      throw e;
    }
    if (!valid) return this.refuse('invalid user name or password');
    try {
      this.maildrop = await this.options.provider.open(user);
    } catch (e) {
      if (isPennError(e, 'CONFLICT')) return reply(err('the maildrop is in use by another session', 'IN-USE'));
      throw e;
    }
    this.state = 'TRANSACTION';
    const { count, octets } = this.totals();
    return reply(ok(`${user} has ${count} message(s) (${octets} octets)`));
  }

  private refuse(text: string): Pop3Reply {
    this.failedLogins++;
    if (this.failedLogins >= this.options.failedLoginsMax) {
      return { chunks: [err(`${text}; too many failed attempts, closing`, 'AUTH')], after: 'close' };
    }
    return reply(err(text, 'AUTH'));
  }

  private async transaction(keyword: string, args: string[]): Promise<Pop3Reply> {
    const drop = this.maildrop!;
    switch (keyword) {
      case 'STAT': {
        const { count, octets } = this.totals();
        return reply(ok(`${count} ${octets}`));
      }
      case 'LIST':
      case 'UIDL': {
        const field = (i: number): string => String(keyword === 'LIST' ? drop.messages[i]!.size : drop.messages[i]!.uid);
        if (args.length === 0) {
          const lines = drop.messages.flatMap((_, i) => (this.deleted.has(i) ? [] : [`${i + 1} ${field(i)}`]));
          return reply(multiLine(ok(keyword === 'LIST' ? `${this.totals().count} messages` : 'unique-id listing follows'), lines));
        }
        const index = this.messageIndex(args[0]);
        if (typeof index === 'string') return reply(err(index));
        return reply(ok(`${index + 1} ${field(index)}`));
      }
      case 'RETR': {
        const index = this.messageIndex(args[0]);
        if (typeof index === 'string') return reply(err(index));
        const message = await readMessage(drop, index);
        if (message === null) return reply(gone(index));
        await drop.markSeen(index).catch((e: unknown) => {
          if (!isPennError(e, 'NOT_FOUND')) throw e;
        });
        return { chunks: [ok(`${drop.messages[index]!.size} octets`), ...stuffMessage(message)], after: 'continue' };
      }
      case 'TOP': {
        const index = this.messageIndex(args[0]);
        if (typeof index === 'string') return reply(err(index));
        if (args[1] === undefined || !/^\d{1,9}$/.test(args[1])) return reply(err('usage: TOP msg n (n a number of lines)'));
        const message = await readMessage(drop, index);
        if (message === null) return reply(gone(index));
        return { chunks: [ok('top of message follows'), ...stuffMessage(message, Number(args[1]))], after: 'continue' };
      }
      case 'DELE': {
        const index = this.messageIndex(args[0]);
        if (typeof index === 'string') return reply(err(index));
        this.deleted.add(index);
        return reply(ok(`message ${index + 1} deleted`));
      }
      case 'RSET':
        this.deleted.clear();
        return reply(ok(`maildrop has ${this.totals().count} messages`));
      default:
        return reply(err(`${keyword || 'empty command'} is not a known command`));
    }
  }

  /** RFC 1939 §6: QUIT in TRANSACTION enters UPDATE and removes what DELE marked. */
  private async quit(): Promise<Pop3Reply> {
    if (this.state !== 'TRANSACTION') return { chunks: [ok('PennCloud POP3 server signing off')], after: 'close' };
    this.state = 'UPDATE';
    const drop = this.maildrop!;
    const uids = [...this.deleted].map((i) => drop.messages[i]!.uid);
    try {
      if (uids.length > 0) await drop.remove(uids);
    } catch {
      await this.abandon();
      return { chunks: [err('some deleted messages were not removed', 'SYS/TEMP')], after: 'close' };
    }
    await this.abandon();
    return { chunks: [ok(`signing off (${uids.length} message(s) deleted)`)], after: 'close' };
  }

  /** The 0-based index of message number `arg`, or the -ERR text. */
  private messageIndex(arg: string | undefined): number | string {
    if (arg === undefined || !/^\d{1,9}$/.test(arg)) return 'a message number is required';
    const index = Number(arg) - 1;
    if (index < 0 || index >= this.maildrop!.messages.length) return `no message ${arg}`;
    if (this.deleted.has(index)) return `message ${arg} already deleted`;
    return index;
  }

  private totals(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    this.maildrop!.messages.forEach((m, i) => {
      if (this.deleted.has(i)) return;
      count++;
      octets += m.size;
    });
    return { count, octets };
  }
}

/** The message at `index`, or null when it was removed (by the webmail) since the listing. */
async function readMessage(drop: Maildrop, index: number): Promise<Buffer | null> {
  try {
    return await drop.read(index);
  } catch (e) {
    if (isPennError(e, 'NOT_FOUND')) return null;
    throw e;
  }
}

/** RFC 3206 §4: SYS/PERM, a lasting condition; the message will not come back. */
function gone(index: number): Buffer {
  return err(`no such message: message ${index + 1} was removed from the maildrop`, 'SYS/PERM');
}

function reply(chunk: Buffer): Pop3Reply {
  return { chunks: [chunk], after: 'continue' };
}
