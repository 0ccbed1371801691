/**
 * The IMAP server's shell: sockets, command framing, the order of pipelined commands, the
 * IDLE poll, the autologout timer and STARTTLS. Everything the protocol decides is in
 * imap-session.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from '../protocol/log.js';
import type { ImapStore } from './imap-mailstore.js';
import { CommandFramer, type FrameEvent } from './imap-parser.js';
import { ImapSession, type ImapReply } from './imap-session.js';

/** Commands read ahead of the one being answered; past it, reading pauses until they are done. */
export const COMMANDS_IN_FLIGHT_MAX = 64;
/**
 * How often an IDLE session looks for changes (one cell of the store per look): new mail
 * reaches an idling client within this, well inside the 2 s users notice.
 */
export const IDLE_POLL_INTERVAL_MS = 500;
/** RFC 3501 §5.4: an autologout timer, if any, of at least 30 minutes. */
export const IDLE_TIMEOUT_MS_MIN = 30 * 60_000;

export interface ImapServerOptions {
  store: ImapStore;
  logger: Logger;
  /** The autologout timer (at least IDLE_TIMEOUT_MS_MIN in conf). */
  idleTimeoutMs: number;
  failedLoginsMax: number;
  /** Open connections at once; one more is told BYE and closed. */
  connectionsMax: number;
  /** The largest literal taken: APPEND of a message up to the mail size limit. */
  literalBytesMax: number;
  /** Offered through STARTTLS when set. */
  tls: SecureContext | null;
}

type Queued = { kind: 'event'; event: FrameEvent };

export class ImapServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private nextConnectionId = 1;

  constructor(private readonly options: ImapServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** Stops accepting and ends every session. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(raw: Socket): void {
    if (this.sockets.size >= this.options.connectionsMax) {
      raw.on('error', () => raw.destroy());
      raw.end(`* BYE too many connections (at most ${this.options.connectionsMax}), try again later\r\n`);
      return;
    }
    const cid = this.nextConnectionId++;
    const log = this.options.logger.child({ cid });
    let socket: Socket = raw;
    let secure = false;
    const session = new ImapSession({
      store: this.options.store,
      remoteAddress: raw.remoteAddress ?? '',
      failedLoginsMax: this.options.failedLoginsMax,
      tlsAvailable: () => this.options.tls !== null && !secure,
    });
    this.sockets.add(raw);
    let framer = new CommandFramer(this.options.literalBytesMax);
    const queue: Queued[] = [];
    let busy = false;
    let closed = false;
    let idleTimer: NodeJS.Timeout | null = null;
    let pollTimer: NodeJS.Timeout | null = null;

    const resetIdle = (): void => {
      if (idleTimer !== null) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        log.info('autologout after idle timeout');
        void write({ chunks: [Buffer.from('* BYE autologout: idle too long\r\n')], after: 'close' }).finally(() => finish('end'));
      }, this.options.idleTimeoutMs);
    };
    const stopPolling = (): void => {
      if (pollTimer !== null) clearInterval(pollTimer);
      pollTimer = null;
    };
    const finish = (how: 'end' | 'destroy' = 'destroy'): void => {
      if (closed) return;
      closed = true;
      if (idleTimer !== null) clearTimeout(idleTimer);
      stopPolling();
      this.sockets.delete(raw);
      if (how === 'end') socket.end();
      else socket.destroy();
    };
    const write = async (reply: ImapReply): Promise<void> => {
      for await (const chunk of reply.chunks) {
        if (closed) return;
        if (!socket.write(chunk)) await new Promise<void>((resolve) => socket.once('drain', resolve));
      }
    };
    const onData = (chunk: Buffer): void => {
      resetIdle();
      for (const event of framer.push(chunk)) queue.push({ kind: 'event', event });
      if (queue.length >= COMMANDS_IN_FLIGHT_MAX) socket.pause();
      void drain();
    };
    /** RFC 2177: while idling, look for news every IDLE_POLL_INTERVAL_MS, between commands only. */
    const poll = async (): Promise<void> => {
      if (busy || closed || !session.idling) return;
      busy = true;
      try {
        const news = await session.idleNews();
        if (news.length > 0) await write({ chunks: news, after: 'continue' });
      } catch (e) {
        log.warn('could not look for news while idling', { err: e });
      } finally {
        busy = false;
      }
      void drain();
    };
    const drain = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (queue.length > 0 && !closed) {
          const { event } = queue.shift()!;
          if (queue.length < COMMANDS_IN_FLIGHT_MAX) socket.resume();
          if (event.kind === 'continue') {
            socket.write('+ go ahead\r\n');
            continue;
          }
          if (event.kind === 'too-big') {
            if (event.fatal) {
              await write({ chunks: [Buffer.from(`* BYE ${event.text}, closing\r\n`)], after: 'close' });
              finish('end');
              return;
            }
            socket.write(`${event.tag ?? '*'} ${event.text.startsWith('command line') ? 'BAD' : 'NO [LIMIT]'} ${event.text}\r\n`);
            continue;
          }
          logCommand(log, event.bytes, session);
          let reply: ImapReply;
          try {
            reply = await session.handle(event.bytes);
          } catch (e) {
            log.error('command failed', { err: e });
            reply = { chunks: [Buffer.from('* BYE internal error, closing\r\n')], after: 'close' };
          }
          try {
            await write(reply);
          } catch (e) {
            log.error('reply failed', { err: e });
            await write({ chunks: [Buffer.from('\r\n* BYE internal error, closing\r\n')], after: 'close' });
            finish('end');
            return;
          }
          stopPolling();
          if (reply.after === 'close') {
            finish('end');
            return;
          }
          if (reply.after === 'idle') pollTimer = setInterval(() => void poll(), IDLE_POLL_INTERVAL_MS);
          if (reply.after === 'start-tls') {
            // RFC 3501 §6.2.1: nothing pipelined after STARTTLS counts; negotiate on the same socket.
            queue.length = 0;
            framer = new CommandFramer(this.options.literalBytesMax);
            socket.off('data', onData);
            const tls = new TLSSocket(socket, { isServer: true, secureContext: this.options.tls! });
            tls.on('secure', () => { secure = true; });
            tls.on('data', onData);
            tls.on('error', () => finish());
            tls.on('close', () => finish());
            socket = tls;
          }
        }
      } finally {
        busy = false;
      }
    };

    raw.on('data', onData);
    raw.on('error', () => finish());
    raw.on('close', () => finish());
    resetIdle();
    raw.write(session.greeting());
  }
}

/** Transcripts at debug level: the first line only (never a literal's octets), never a password. */
function logCommand(log: Logger, bytes: Buffer, session: ImapSession): void {
  const firstLine = bytes.subarray(0, Math.min(bytes.length, 200)).toString('latin1').split(/\r?\n/)[0]!;
  const secret = /^\S+ (LOGIN|AUTHENTICATE)\b/i.exec(firstLine);
  const masked = secret !== null ? `${firstLine.slice(0, secret[0].length)} ***` : session.state === 'NOT AUTHENTICATED' && !/^\S+ [A-Za-z]+/.test(firstLine) ? '***' : firstLine;
  log.debug(`C: ${masked}`, { user: session.loggedInUser });
}
