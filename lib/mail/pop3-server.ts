/**
 * The POP3 server's shell: sockets, line framing, the order of pipelined commands, the idle
 * timer and STLS. Everything the protocol decides is in pop3-session.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from '../protocol/log.js';
import type { MaildropProvider } from './pop3-maildrop.js';
import { err } from './pop3-replies.js';
import { COMMAND_LINE_BYTES_MAX, Pop3Session, type Pop3Reply } from './pop3-session.js';

/** Commands read ahead of the one being answered (RFC 2449 PIPELINING); past it, reading pauses. */
export const PIPELINED_COMMANDS_MAX = 64;

export interface Pop3ServerOptions {
  provider: MaildropProvider;
  logger: Logger;
  /** RFC 1939 §3: an autologout timer of at least 10 minutes. */
  idleTimeoutMs: number;
  failedLoginsMax: number;
  /** Offered through STLS when set. */
  tls: SecureContext | null;
}

export class Pop3Server {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private nextConnectionId = 1;

  constructor(private readonly options: Pop3ServerOptions) {
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

  /** Stops accepting and ends every session without UPDATE (nothing is deleted). */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(raw: Socket): void {
    const cid = this.nextConnectionId++;
    const log = this.options.logger.child({ cid });
    let socket: Socket = raw;
    let secure = false;
    const session = new Pop3Session({
      provider: this.options.provider,
      remoteAddress: raw.remoteAddress ?? '',
      failedLoginsMax: this.options.failedLoginsMax,
      tlsAvailable: () => this.options.tls !== null && !secure,
      implementation: 'PennCloud',
    });
    this.sockets.add(raw);
    // null stands for a line longer than COMMAND_LINE_BYTES_MAX: answered in its turn, then closed.
    const queue: (string | null)[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let busy = false;
    let closed = false;
    let idleTimer: NodeJS.Timeout | null = null;

    const resetIdle = (): void => {
      if (idleTimer !== null) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        log.info('idle timeout, closing');
        finish();
      }, this.options.idleTimeoutMs);
    };
    /**
     * Every way a session ends comes here, so the maildrop is always released (RFC 1939 §8
     * locks it only for the life of a session). `end` lets written replies reach the client.
     */
    const finish = (how: 'end' | 'destroy' = 'destroy'): void => {
      if (closed) return;
      closed = true;
      if (idleTimer !== null) clearTimeout(idleTimer);
      this.sockets.delete(raw);
      if (how === 'end') socket.end();
      else socket.destroy();
      void session.abandon().catch((e: unknown) => log.warn('could not release a maildrop', { err: e }));
    };
    const write = async (reply: Pop3Reply): Promise<void> => {
      for (const chunk of reply.chunks) {
        if (!socket.write(chunk)) await new Promise<void>((resolve) => socket.once('drain', resolve));
      }
    };
    const onData = (chunk: Buffer): void => {
      resetIdle();
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let nl: number;
      while ((nl = pending.indexOf(0x0a)) !== -1) {
        const bytes = pending.subarray(0, nl);
        pending = pending.subarray(nl + 1);
        // The limit holds for a whole line as for one still arriving: nothing after it is read.
        if (bytes.length - (bytes[bytes.length - 1] === 0x0d ? 1 : 0) > COMMAND_LINE_BYTES_MAX) {
          tooLong();
          return;
        }
        queue.push(bytes.toString('utf8').replace(/\r$/, ''));
      }
      if (pending.length > COMMAND_LINE_BYTES_MAX) {
        tooLong();
        return;
      }
      if (queue.length >= PIPELINED_COMMANDS_MAX) socket.pause();
      void drain();
    };
    const tooLong = (): void => {
      pending = Buffer.alloc(0);
      socket.off('data', onData);
      queue.push(null);
      void drain();
    };
    const drain = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (queue.length > 0 && !closed) {
          const line = queue.shift()!;
          if (line === null) {
            await write({ chunks: [err(`command line longer than ${COMMAND_LINE_BYTES_MAX} octets, closing`)], after: 'close' });
            finish('end');
            return;
          }
          if (queue.length < PIPELINED_COMMANDS_MAX) socket.resume();
          // Transcripts at debug level, never a password.
          log.debug(`C: ${/^(PASS|AUTH)\b/i.test(line) ? line.split(' ')[0] + ' ***' : line}`);
          let reply: Pop3Reply;
          try {
            reply = await session.handle(line);
          } catch (e) {
            log.error('command failed', { err: e });
            reply = { chunks: [err('internal error, closing', 'SYS/TEMP')], after: 'close' };
          }
          await write(reply);
          if (reply.after === 'close') {
            finish('end');
            return;
          }
          if (reply.after === 'start-tls') {
            // RFC 2595 §4: nothing pipelined after STLS counts; negotiate on the same socket.
            queue.length = 0;
            pending = Buffer.alloc(0);
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
