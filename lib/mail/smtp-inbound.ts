/**
 * The SMTP server (on the smtp-server package): mail for local users is accepted from anyone
 * and delivered to their Inbox; mail for other domains only from a client that has logged in
 * (AUTH PLAIN or LOGIN with a PennCloud account), so PennCloud is never an open relay.
 * Oversize messages are read to their end and then refused with 552 (RFC 1870 §6.3). A
 * message goes to the store as it arrives, a chunk at a time; only its header section (at most
 * HEADER_SECTION_BYTES_MAX) is held whole, for the From: checks.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { isPennError, PennError, type ErrorCode } from '../protocol/errors.js';
import type { Logger } from '../protocol/log.js';
import { TRACE_HEADER_BYTES_MAX } from '../services/mail-service.js';
import { parseAddressList } from '../services/mime/address-list.js';
import { parseHeaderFields } from '../services/mime/header-fields.js';
import { HEADER_SECTION_BYTES_MAX } from '../services/mime/message-scan.js';
import { InboundRateLimit } from './inbound-rate.js';
import {
  checkEnvelopeSender, checkHeaderFrom, claimsLocalSender, isLocalAddress, localSenderRefusal,
  SENDER_WARNING_HEADER, SENDER_WARNING_TEXT, type LocalSenderPolicy, type SenderRefusal,
} from './sender-policy.js';

/**
 * Local parts every mail domain must accept (RFC 5321 §4.5.1 postmaster, RFC 2142 abuse),
 * whether or not an account has that name; their mail goes to the operators.
 */
export const ROLE_MAILBOXES: readonly string[] = ['postmaster', 'abuse'];

/** What the SMTP server needs from the mail service. */
export interface SmtpBackend {
  /** The mail domain: addresses `user@domain` are local. */
  readonly domain: string;
  authenticate(username: string, password: string, remoteAddress: string): Promise<boolean>;
  /** True when `username` has an account. */
  userExists(username: string): Promise<boolean>;
  /**
   * Takes a message as a stream of its bytes: local recipients get it in their Inbox, others
   * go to the outbound queue. Resolves once it is stored (the client is told it was accepted
   * only then).
   */
  accept(envelope: SmtpEnvelope, message: AsyncIterable<Uint8Array>): Promise<void>;
}

/** A message's envelope as the SMTP server hands it over. */
export interface SmtpEnvelope {
  from: string;
  recipients: string[];
  authenticatedUser: string | null;
  /** Set when the sender claims a local address without having logged in (policy `mark`). */
  senderWarning: string | null;
}

/**
 * Connections served at once; past it a new one gets 421 and is closed. With each message
 * in DATA holding at most its header section and a few chunks (the rest waits in the socket),
 * this bounds the process's memory whatever the clients send.
 */
export const SMTP_CLIENTS_MAX = 100;

/** SMTP replies for errors of the mail service (this adapter's own table). */
export const SMTP_REPLY_BY_CODE: Record<ErrorCode, { code: number; text: string }> = {
  BAD_REQUEST: { code: 550, text: '5.6.0 Message refused' },
  UNAUTHENTICATED: { code: 530, text: '5.7.0 Authentication required' },
  FORBIDDEN: { code: 550, text: '5.7.1 Not allowed' },
  NOT_FOUND: { code: 550, text: '5.1.1 No such user here' },
  METHOD_NOT_ALLOWED: { code: 502, text: '5.5.1 Not allowed' },
  CONFLICT: { code: 451, text: '4.3.0 Try again later' },
  PRECONDITION_FAILED: { code: 451, text: '4.3.0 Try again later' },
  TOO_LARGE: { code: 552, text: '5.3.4 Message too big' },
  URI_TOO_LONG: { code: 500, text: '5.5.2 Line too long' },
  HEADERS_TOO_LARGE: { code: 552, text: '5.3.4 Header too big' },
  RANGE_NOT_SATISFIABLE: { code: 550, text: '5.6.0 Message refused' },
  UNSUPPORTED_MEDIA_TYPE: { code: 550, text: '5.6.0 Message refused' },
  TIMEOUT: { code: 451, text: '4.4.1 Storage did not answer, try again later' },
  RATE_LIMITED: { code: 450, text: '4.7.1 Too many attempts, try again later' },
  QUOTA_EXCEEDED: { code: 552, text: '5.2.2 Mailbox full' },
  UNAVAILABLE: { code: 451, text: '4.3.0 Storage unavailable, try again later' },
  NOT_IMPLEMENTED: { code: 502, text: '5.5.1 Not implemented' },
  INTERNAL: { code: 451, text: '4.3.0 Local error, try again later' },
};

export interface SmtpInboundOptions {
  backend: SmtpBackend;
  logger: Logger;
  /** Largest message accepted, advertised with SIZE. */
  messageBytesMax: number;
  /** Host name in the greeting and the Received header. */
  hostname: string;
  /** PEM key and certificate for STARTTLS, or null for none. */
  tls: { key: Buffer; cert: Buffer } | null;
  /** Accounts that receive the mail of ROLE_MAILBOXES (conf `admins`). */
  operators: readonly string[];
  /** Unauthenticated mail claiming a local sender: marked or refused (conf smtp.localSenderPolicy). */
  localSenderPolicy: LocalSenderPolicy;
  /** Cap on mail from clients that have not logged in, per client address. */
  unauthenticatedMessagesPerWindow: number;
  unauthenticatedWindowMs: number;
  now?: () => number;
}

/** An Error that smtp-server turns into a reply with this code. */
function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

function refusalError(refusal: SenderRefusal): Error {
  return smtpError(refusal.code, refusal.text);
}

function replyFor(err: unknown): Error {
  const reply = SMTP_REPLY_BY_CODE[isPennError(err) ? err.code : 'INTERNAL'];
  return smtpError(reply.code, isPennError(err) && reply.code < 500 ? reply.text : `${reply.text}${isPennError(err) ? `: ${err.message}` : ''}`);
}

/**
 * RFC 6531 §3.4: a non-ASCII address needs SMTPUTF8 on MAIL FROM; without it the client has
 * not asked for an internationalised transaction. The reply is RFC 6531 §3.5's.
 */
function utf8Refusal(address: string, session: SMTPServerSession): Error | null {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(address) || session.envelope.smtpUtf8 === true) return null;
  return smtpError(553, '5.6.7 Non-ASCII addresses need the SMTPUTF8 parameter on MAIL FROM');
}

function dedupe(list: string[]): string[] {
  return [...new Set(list.map((a) => a.toLowerCase()))];
}

export class SmtpInbound {
  readonly server: SMTPServer;
  private readonly rateLimit: InboundRateLimit;
  private readonly now: () => number;

  constructor(private readonly options: SmtpInboundOptions) {
    const { backend } = options;
    this.rateLimit = new InboundRateLimit(options.unauthenticatedMessagesPerWindow, options.unauthenticatedWindowMs);
    this.now = options.now ?? Date.now;
    const settings: SMTPServerOptions = {
      name: options.hostname,
      banner: 'PennCloud ESMTP',
      size: options.messageBytesMax,
      maxClients: SMTP_CLIENTS_MAX,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: true,
      // Without a certificate there is no TLS to wait for; AUTH is then allowed in the clear
      // (a local deployment). With one, clients are expected to use STARTTLS first.
      allowInsecureAuth: options.tls === null,
      hideSTARTTLS: options.tls === null,
      ...(options.tls === null ? {} : { key: options.tls.key, cert: options.tls.cert }),
      logger: false,
      disabledCommands: options.tls === null ? ['STARTTLS'] : [],
      // RFC 3207 §4: with a certificate, AUTH is neither offered nor taken before STARTTLS,
      // so a password never crosses in the clear. After the handshake the server-wide list
      // (nothing disabled) applies again.
      onConnect: (session, callback) => {
        if (options.tls !== null) (session as { disabledCommands?: string[] }).disabledCommands = ['AUTH'];
        callback();
      },
      onSecure: (_socket, session, callback) => {
        delete (session as { disabledCommands?: string[] }).disabledCommands;
        callback();
      },
      onMailFrom: (address, session, callback) => {
        callback(utf8Refusal(address.address, session) ?? this.senderRefusal(address.address, session) ?? undefined);
      },
      onAuth: (auth, session, callback) => {
        const remote = session.remoteAddress;
        backend.authenticate(auth.username ?? '', auth.password ?? '', remote).then(
          (ok) => (ok ? callback(null, { user: auth.username }) : callback(smtpError(535, '5.7.8 Invalid user name or password'))),
          (err: unknown) => callback(replyFor(err)),
        );
      },
      onRcptTo: (address, session, callback) => {
        const refusal = utf8Refusal(address.address, session);
        if (refusal !== null) return callback(refusal);
        this.checkRecipient(address.address, session).then(() => callback(), (err: unknown) => callback(err as Error));
      },
      onData: (stream, session, callback) => {
        this.receive(stream, session).then((id) => callback(null, `Message queued as ${id}`), (err: unknown) => callback(err as Error));
      },
    };
    this.server = new SMTPServer(settings);
    this.server.on('error', (err) => options.logger.warn('smtp connection error', { err: (err as Error).message }));
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The MAIL FROM checks of mail identity: whose address a client may send from, and how often. */
  private senderRefusal(mailFrom: string, session: SMTPServerSession): Error | null {
    const { domain } = this.options.backend;
    if (session.user !== undefined) {
      const refusal = checkEnvelopeSender(mailFrom, session.user, domain);
      return refusal === null ? null : refusalError(refusal);
    }
    const waitS = this.rateLimit.waitSeconds(session.remoteAddress, this.now());
    if (waitS > 0) return smtpError(451, `4.7.1 Too many messages from your address, try again in ${waitS} s`);
    if (this.options.localSenderPolicy === 'refuse' && isLocalAddress(mailFrom, domain)) return refusalError(localSenderRefusal());
    return null;
  }

  /**
   * The From: checks at the end of DATA: a logged-in user's From: must be their own; a
   * stranger's claim of a local sender is refused or gets the warning. Returns the warning.
   */
  private checkFromHeader(head: Buffer, session: SMTPServerSession): string | null {
    const { domain } = this.options.backend;
    const fromField = parseHeaderFields(head).find((f) => f.name === 'from');
    const from = parseAddressList(fromField?.value);
    if (session.user !== undefined) {
      const refusal = checkHeaderFrom(from, session.user, domain);
      if (refusal !== null) throw refusalError(refusal);
      return null;
    }
    const mailFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
    if (!claimsLocalSender(mailFrom, from, domain)) return null;
    if (this.options.localSenderPolicy === 'refuse') throw refusalError(localSenderRefusal());
    return SENDER_WARNING_TEXT;
  }

  private async checkRecipient(address: string, session: SMTPServerSession): Promise<void> {
    const at = address.lastIndexOf('@');
    const domain = at === -1 ? '' : address.slice(at + 1).toLowerCase();
    // RFC 5321 §4.5.1: postmaster, with or without a domain, is always accepted.
    const localPart = (at === -1 ? address : address.slice(0, at)).toLowerCase();
    if ((domain === this.options.backend.domain || at === -1) && ROLE_MAILBOXES.includes(localPart)) return;
    if (domain === this.options.backend.domain) {
      let exists: boolean;
      try {
        exists = await this.options.backend.userExists(address.slice(0, at).toLowerCase());
      } catch (err) {
        throw replyFor(err);
      }
      if (!exists) throw smtpError(550, `5.1.1 <${address}>: no such user here`);
      return;
    }
    if (session.user === undefined) throw smtpError(550, '5.7.1 Relaying denied: log in to send mail to other domains');
  }

  /** A role mailbox (postmaster@, abuse@) becomes the operators' addresses; others stay. */
  private routeRole(address: string): string[] {
    const at = address.lastIndexOf('@');
    const domain = at === -1 ? this.options.backend.domain : address.slice(at + 1).toLowerCase();
    const localPart = (at === -1 ? address : address.slice(0, at)).toLowerCase();
    if (domain !== this.options.backend.domain || !ROLE_MAILBOXES.includes(localPart)) return [address];
    // With no operators configured, an account of that name (if any) gets it.
    if (this.options.operators.length === 0) return [address];
    return this.options.operators.map((name) => `${name}@${this.options.backend.domain}`);
  }

  /**
   * Takes DATA as it arrives: the header section is read first (at most
   * HEADER_SECTION_BYTES_MAX) so the From: checks answer before the body is stored, then the
   * trace header, the header section and the rest of the stream go to the store chunk by chunk.
   */
  private async receive(stream: Readable & { sizeExceeded: boolean }, session: SMTPServerSession): Promise<string> {
    const pass = new PassThrough();
    stream.pipe(pass);
    const pieces = pass[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let refusal: Error | null = null;
    const tooBig = (): Error => smtpError(552, `5.3.4 Message too big: at most ${this.options.messageBytesMax} bytes`);
    try {
      let buffered = Buffer.alloc(0);
      let bodyAt = -1;
      let ended = false;
      while (bodyAt === -1) {
        const next = await pieces.next();
        if (next.done === true) {
          ended = true;
          break;
        }
        buffered = Buffer.concat([buffered, next.value]);
        bodyAt = headEndOf(buffered);
        if (stream.sizeExceeded) throw (refusal = tooBig());
        if (bodyAt === -1 && buffered.length > HEADER_SECTION_BYTES_MAX) {
          throw (refusal = smtpError(552, `5.3.4 Header section too big: at most ${HEADER_SECTION_BYTES_MAX} bytes`));
        }
      }
      if (stream.sizeExceeded) throw (refusal = tooBig());
      const head = bodyAt === -1 ? buffered : buffered.subarray(0, bodyAt);
      let senderWarning: string | null;
      try {
        senderWarning = this.checkFromHeader(head, session);
      } catch (err) {
        throw (refusal = err as Error);
      }
      const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      const trace = this.traceHeader(id, session, senderWarning);
      async function* message(): AsyncIterable<Buffer> {
        yield trace;
        yield buffered;
        while (!ended) {
          const next = await pieces.next();
          if (next.done === true) break;
          if (stream.sizeExceeded) {
            refusal = tooBig();
            throw new PennError('TOO_LARGE', 'the message is over the size limit');
          }
          yield next.value;
        }
        if (stream.sizeExceeded) {
          refusal = tooBig();
          throw new PennError('TOO_LARGE', 'the message is over the size limit');
        }
      }
      const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
      const rcptTo = session.envelope.rcptTo.map((r) => r.address);
      const recipients = dedupe(rcptTo.flatMap((r) => this.routeRole(r)));
      try {
        await this.options.backend.accept({ from, recipients, authenticatedUser: session.user ?? null, senderWarning }, message());
      } catch (err) {
        throw refusal ?? replyFor(err);
      }
      if (session.user === undefined) this.rateLimit.record(session.remoteAddress, this.now());
      this.options.logger.info('message accepted', { id, recipients: session.envelope.rcptTo.length });
      return id;
    } catch (err) {
      // Read to the end whatever went wrong, so the client sees the reply (RFC 1870 §6.3 for
      // 552) rather than a connection cut in the middle of its DATA.
      stream.unpipe(pass);
      pass.destroy();
      if (!stream.readableEnded) {
        stream.resume();
        await once(stream, 'end');
      }
      throw err;
    }
  }

  /** Our Received header (RFC 5321 §4.4), and the sender warning when there is one. */
  private traceHeader(id: string, session: SMTPServerSession, senderWarning: string | null): Buffer {
    const rcptTo = session.envelope.rcptTo.map((r) => r.address);
    // RFC 5321 §4.4: a "for" clause names one path at most; naming several would show every
    // recipient (Bcc ones too) to each of them, so it is left out then.
    const forClause = rcptTo.length === 1 ? `\tfor <${rcptTo[0]}>` : '\t';
    const received = `Received: from ${session.clientHostname || session.remoteAddress} ([${session.remoteAddress}])\r\n`
      + `\tby ${this.options.hostname} (PennCloud) with ${session.transmissionType} id ${id}\r\n`
      + `${forClause}; ${new Date().toUTCString().replace('GMT', '+0000')}\r\n`;
    const warning = senderWarning === null ? '' : `${SENDER_WARNING_HEADER}: ${senderWarning}\r\n`;
    const trace = Buffer.from(received + warning, 'utf8');
    assert(trace.length <= TRACE_HEADER_BYTES_MAX, `a Received header of ${trace.length} bytes`);
    return trace;
  }
}

/** Where the body starts (after the empty line that ends the header section), or -1 before it has come. */
function headEndOf(bytes: Buffer): number {
  if (bytes[0] === 0x0a) return 1;
  if (bytes[0] === 0x0d && bytes[1] === 0x0a) return 2;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) {
    if (bytes[i + 1] === 0x0a) return i + 2;
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}
