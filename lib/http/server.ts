/**
 * The HTTP/1.1 server (RFC 9112) on node:net: accepts connections, gives each a Connection,
 * and runs the one timer of the server, a sweep that enforces every connection's deadline
 * (head timeout, idle keep-alive timeout, lingering close) without a timer per request.
 *
 * With `tls` every accepted socket is wrapped in a node:tls server socket first (HTTPS, RFC 9110
 * §4.2.2): the same connections, parser and limits on the decrypted stream. The handshake must
 * finish within the head timeout; a client whose hello is bad is dropped with a debug line, and
 * a graceful close cuts handshakes still under way (no request has begun on them).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { HttpLimitsConfig } from '../../conf/config.js';
import { createLogger, type Logger } from '../protocol/log.js';
import { Connection, type ConnectionContext } from './connection.js';
import { defaultFieldLines, prepareDefaultFields, type DefaultField } from './default-fields.js';
import { LINGER_BYTES_MAX, LINGER_MS, resolveLimits, sweepIntervalMs, type HttpLimits } from './limits.js';
import { finalErrorReply } from './socket-writer.js';
import type { RequestHandler } from './types.js';

export interface HttpServerOptions {
  handler: RequestHandler;
  /** Overrides of the defaults in limits.ts (as conf/ gives them). */
  limits?: HttpLimitsConfig;
  logger?: Logger;
  /** Shown in log lines and request ids ("frontend-1", "dispatcher"). */
  name?: string;
  /**
   * Header fields added to every response unless the handler set the same name
   * (security policy); [name, value] pairs.
   */
  defaultFields?: readonly (readonly [string, string])[];
  /** Serve HTTPS with this key and certificate chain (PEM); plain HTTP without. */
  tls?: { key: Buffer; cert: Buffer };
}

/** Where a server listens. */
export interface ListenAddress {
  port: number;
  host: string;
}

export class HttpServer implements ConnectionContext {
  readonly handler: RequestHandler;
  readonly limits: HttpLimits;
  readonly logger: Logger;
  readonly idPrefix: string;
  clockMs = Date.now();
  shuttingDown = false;
  readonly defaultFields: readonly DefaultField[];
  readonly defaultFieldLines: string;
  /** Whether this server speaks HTTPS. */
  readonly secure: boolean;
  private readonly name: string;
  private readonly server: Server;
  private readonly secureContext: SecureContext | null;
  /** TLS sockets whose handshake is under way (not yet connections). */
  private readonly handshakes = new Set<TLSSocket>();
  private readonly connections = new Set<Connection>();
  /** Open connections per client address (connectionsPerClientMax). */
  private readonly connectionsByAddress = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private requestSeq = 0;
  private closed: Promise<void> | null = null;
  private closeWaiter: (() => void) | null = null;

  constructor(options: HttpServerOptions) {
    this.handler = options.handler;
    this.limits = resolveLimits(options.limits ?? {});
    this.name = options.name ?? 'http';
    this.logger = options.logger ?? createLogger('http', { server: this.name });
    this.idPrefix = `${randomBytes(3).toString('hex')}-`;
    this.defaultFields = prepareDefaultFields(options.defaultFields ?? []);
    this.defaultFieldLines = defaultFieldLines(this.defaultFields);
    this.secure = options.tls !== undefined;
    this.secureContext = options.tls === undefined ? null : createSecureContext({ key: options.tls.key, cert: options.tls.cert });
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (this.secureContext === null) this.accept(socket);
      else this.handshake(socket, this.secureContext);
    });
  }

  /**
   * Runs the server side of a TLS handshake on `socket`, then accepts the decrypted socket. A
   * handshake is part of getting a request head in, so it gets the head timeout.
   */
  private handshake(socket: Socket, secureContext: SecureContext): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    const tls = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    this.handshakes.add(tls);
    const timer = setTimeout(() => {
      this.logger.debug('tls handshake timed out', { address: socket.remoteAddress });
      tls.destroy();
    }, this.limits.headTimeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      this.handshakes.delete(tls);
      tls.off('error', failed);
      tls.off('close', done);
    };
    const failed = (err: Error): void => {
      this.logger.debug('tls handshake failed', { address: socket.remoteAddress, err: err.message });
      done();
      tls.destroy();
    };
    tls.once('error', failed);
    tls.once('close', done);
    tls.once('secure', () => {
      done();
      this.accept(tls);
    });
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host = '127.0.0.1'): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.logger.error('server error', { err }));
        this.startSweep();
        const address = this.address!;
        this.logger.info('listening', { host: address.host, port: address.port });
        resolve(address);
      });
    });
  }

  /** The bound address, or null before listen(). */
  get address(): ListenAddress | null {
    const info = this.server.address() as AddressInfo | null;
    return info === null ? null : { port: info.port, host: info.address };
  }

  /** Open client connections (reported in the frontend's heartbeat). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Graceful shutdown: stops accepting, closes idle keep-alive connections now, lets in-flight
   * requests finish (their responses carry `Connection: close`) for up to shutdownGraceMs,
   * then cuts whatever is left. Resolves when every connection is closed.
   */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.shuttingDown = true;
    this.closed = new Promise<void>((resolve) => {
      let listenerClosed = !this.server.listening;
      const grace = setTimeout(() => {
        for (const connection of this.connections) connection.socket.destroy();
      }, this.limits.shutdownGraceMs);
      const finish = (): void => {
        if (!listenerClosed || this.connections.size > 0) return;
        clearTimeout(grace);
        this.stopSweep();
        this.closeWaiter = null;
        this.logger.info('closed');
        resolve();
      };
      this.closeWaiter = finish;
      if (!listenerClosed) {
        this.server.close(() => {
          listenerClosed = true;
          finish();
        });
      }
      for (const handshake of this.handshakes) handshake.destroy();
      for (const connection of this.connections) connection.shutdown();
      finish();
    });
    return this.closed;
  }

  nextRequestSeq(): number {
    return ++this.requestSeq;
  }

  onConnectionClosed(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    const address = connection.remoteAddress;
    const count = this.connectionsByAddress.get(address)!;
    if (count <= 1) this.connectionsByAddress.delete(address);
    else this.connectionsByAddress.set(address, count - 1);
    this.closeWaiter?.();
  }

  private accept(socket: Socket): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? '';
    const count = this.connectionsByAddress.get(address) ?? 0;
    if (count >= this.limits.connectionsPerClientMax) {
      this.refuse(socket);
      return;
    }
    this.connectionsByAddress.set(address, count + 1);
    this.connections.add(new Connection(socket, this));
  }

  /**
   * One address holds connectionsPerClientMax connections already: the new one gets 503
   * (RFC 9110 §15.6.4, a temporary condition) before any request is read, and is closed. What
   * the client sends meanwhile is read and dropped for a while, so a TCP reset does not destroy
   * the reply before the client reads it.
   */
  private refuse(socket: Socket): void {
    this.logger.debug('connection refused', { address: socket.remoteAddress });
    let dropped = 0;
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > LINGER_BYTES_MAX) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('end', () => socket.destroy());
    socket.on('close', () => clearTimeout(timer));
    socket.end(finalErrorReply(503, 'UNAVAILABLE', 'Too many connections from this address', this.defaultFieldLines));
  }

  private startSweep(): void {
    if (this.sweepTimer !== null) return;
    this.clockMs = Date.now();
    this.sweepTimer = setInterval(() => this.sweep(), sweepIntervalMs(this.limits));
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  private sweep(): void {
    const now = Date.now();
    this.clockMs = now;
    for (const connection of this.connections) connection.sweep(now);
  }
}
