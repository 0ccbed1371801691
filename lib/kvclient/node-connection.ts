/**
 * One TCP connection from a client to a node, pipelined: many requests in flight, replies
 * matched by request id, each request with its own timeout. A new connection first proves it
 * knows the cluster secret and checks that the node does (lib/protocol/peer-auth.ts), within the
 * connect timeout. A lost connection fails every
 * request in flight with UNAVAILABLE; the next request opens a new one.
 */
import { connect, type Socket } from 'node:net';
import { PennError } from '../protocol/errors.js';
import { KvBodyError } from '../protocol/kv-bytes.js';
import { KvFrameDecoder, KvFrameError } from '../protocol/kv-frame-decoder.js';
import { KvOutbox } from '../protocol/kv-outbox.js';
import { AuthClientHandshake } from '../protocol/peer-auth.js';
import { decodeReply } from '../protocol/kv-reply-codec.js';
import { encodeRequest } from '../protocol/kv-request-codec.js';
import { kvFrameBytesMax, type KvReply, type KvRequestBody } from '../protocol/kv-wire.js';
import { sourceAddressFor } from '../protocol/source-address.js';

/** Bytes one socket read takes at most. */
export const CLIENT_READ_BUFFER_BYTES = 64 * 1024;
/**
 * The buffer every client socket of this process reads into. Its bytes are copied out (into
 * one buffer per reply) before the read callback returns, and callbacks run one at a time, so
 * one buffer serves all connections. A socket reading into fresh buffers made a long reply's
 * worth of garbage twice over (the reads, then the joined frame): a frontend streaming a
 * download then held tens of MiB more before a collection.
 */
const CLIENT_READ_BUFFER = Buffer.allocUnsafe(CLIENT_READ_BUFFER_BYTES);

export interface NodeAddress {
  host: string;
  port: number;
}

interface Pending {
  resolve: (reply: KvReply) => void;
  reject: (err: Error) => void;
  deadlineMs: number;
  op: string;
}

export class NodeConnection {
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private decoder: KvFrameDecoder | null = null;
  /** Requests in flight, in the order sent (so, with one timeout for all, by deadline). */
  private readonly pending = new Map<number, Pending>();
  private outbox: KvOutbox | null = null;
  /** One timer per connection, armed for the earliest deadline, instead of one per request. */
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly address: NodeAddress,
    private readonly clientId: Buffer,
    private readonly valueBytesMax: number,
    private readonly connectTimeoutMs: number,
    /** Shared with the other connections of a client: requests in flight over all of them. */
    private readonly counter: { inFlight: number },
    /** The cluster secret, proven to the node before the first request. */
    private readonly secret: Buffer,
    /** The configured host of the role this client serves: connections leave from it. */
    private readonly sourceHost?: string,
  ) {}

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends one request and resolves with its reply; rejects with PennError on failure. */
  request(body: KvRequestBody, requestId: number, timeoutMs: number): Promise<KvReply> {
    const socket = this.socket;
    if (socket === null) return this.connect().then(() => this.request(body, requestId, timeoutMs));
    return new Promise<KvReply>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject, deadlineMs: Date.now() + timeoutMs, op: body.op });
      this.counter.inFlight++;
      if (this.sweepTimer === null) this.armSweep(timeoutMs);
      this.outbox!.push(encodeRequest(body, requestId, this.clientId));
    });
  }

  private armSweep(delayMs: number): void {
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(1, delayMs));
    this.sweepTimer.unref();
  }

  /** Fails every request past its deadline, then re-arms for the earliest one left. */
  private sweep(): void {
    this.sweepTimer = null;
    const now = Date.now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const [id, p] of this.pending) {
      if (p.deadlineMs <= now) {
        this.pending.delete(id);
        this.counter.inFlight--;
        p.reject(new PennError('TIMEOUT', `${p.op} to ${this.label()} got no reply in time`));
      } else {
        earliest = Math.min(earliest, p.deadlineMs);
      }
    }
    if (Number.isFinite(earliest)) this.armSweep(earliest - now);
  }

  private label(): string {
    return `${this.address.host}:${this.address.port}`;
  }

  private connect(): Promise<Socket> {
    if (this.connecting !== null) return this.connecting;
    this.connecting = new Promise<Socket>((resolve, reject) => {
      // Until the handshake ends, bytes go to it; then to the reply decoder.
      let handshake: AuthClientHandshake | null = new AuthClientHandshake(this.secret);
      const fail = (err: PennError): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const onHandshakeBytes = (chunk: Buffer): void => {
        const step = handshake!.push(chunk);
        if (step.send !== undefined) socket.write(step.send);
        if (step.refused !== undefined) {
          handshake = null;
          fail(new PennError('UNAVAILABLE', `cannot authenticate to ${this.label()}: ${step.refused}`, { reason: 'PEER_AUTH' }));
        } else if (step.accepted !== undefined) {
          handshake = null;
          clearTimeout(timer);
          this.socket = socket;
          this.outbox = new KvOutbox(socket);
          this.decoder = new KvFrameDecoder('reply', kvFrameBytesMax(this.valueBytesMax));
          resolve(socket);
          if (step.accepted.rest.length > 0) this.onData(socket, step.accepted.rest);
        }
      };
      // Reads land in one buffer (CLIENT_READ_BUFFER) that each reply is copied out of once.
      const localAddress = sourceAddressFor(this.sourceHost, this.address.host);
      const socket: Socket = connect({
        host: this.address.host,
        port: this.address.port,
        ...(localAddress !== undefined ? { localAddress } : {}),
        onread: {
          buffer: CLIENT_READ_BUFFER,
          callback: (bytes: number, buffer: Uint8Array) => {
            const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
            if (handshake !== null) onHandshakeBytes(chunk);
            else this.onData(socket, chunk);
            return true;
          },
        },
      });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        fail(new PennError('UNAVAILABLE', `cannot connect to ${this.label()}: no answer in ${this.connectTimeoutMs} ms`, { reason: 'CONNECT_FAILED' }));
      }, this.connectTimeoutMs);
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(new PennError('UNAVAILABLE', `cannot reach ${this.label()}: ${err.message}`, { reason: 'CONNECT_FAILED', cause: err }));
      });
      socket.on('close', () => {
        if (handshake !== null) fail(new PennError('UNAVAILABLE', `${this.label()} closed the connection during authentication`, { reason: 'PEER_AUTH' }));
        this.onClose(socket);
      });
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket || this.decoder === null) return;
    const decoder = this.decoder;
    try {
      for (const frame of decoder.pushCopy(chunk)) {
        const reply = decodeReply(frame);
        const p = this.pending.get(reply.requestId);
        if (p === undefined) continue; // timed out already
        this.pending.delete(reply.requestId);
        this.counter.inFlight--;
        p.resolve(reply);
      }
      if (decoder.error !== null) throw decoder.error;
    } catch (err) {
      if (!(err instanceof KvFrameError) && !(err instanceof KvBodyError)) throw err;
      this.failAll(new PennError('UNAVAILABLE', `node ${this.label()} sent a malformed reply: ${err.message}`, { reason: 'PROTOCOL' }));
      socket.destroy();
    }
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.decoder = null;
    this.failAll(new PennError('UNAVAILABLE', `connection to ${this.label()} closed`, { reason: 'CONNECTION_LOST' }));
  }

  private failAll(err: PennError): void {
    this.counter.inFlight -= this.pending.size;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  close(): void {
    this.socket?.destroy();
  }
}
