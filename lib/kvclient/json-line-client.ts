/**
 * A client for the control protocols that speak newline-delimited JSON (the coordinator, the
 * `up` supervisor): one connection, requests matched to replies by `id`, a timeout on each,
 * reconnecting on the next request after a failure. Each connection first proves the cluster
 * secret and checks the peer's proof (lib/protocol/peer-auth.ts).
 */
import { connect, type Socket } from 'node:net';
import { PennError } from '../protocol/errors.js';
import { encodeJsonLine, readJsonLines } from '../protocol/json-lines.js';
import { authenticateToPeer } from '../protocol/peer-auth.js';
import { sourceAddressFor } from '../protocol/source-address.js';

/** Requests waiting for a reply on one connection at most. */
export const CONTROL_REQUESTS_IN_FLIGHT_MAX = 256;

interface Pending {
  resolve: (reply: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class JsonLineClient {
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** @param what names the peer in errors ("the coordinator") */
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
    private readonly what: string,
    private readonly secret: Buffer,
    /** The configured host of the role this client serves: connections leave from it. */
    private readonly sourceHost?: string,
  ) {}

  /** Sends `message` with a fresh id; resolves with the reply (an `error` reply rejects). */
  async request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.pending.size >= CONTROL_REQUESTS_IN_FLIGHT_MAX) throw new PennError('UNAVAILABLE', `too many requests waiting for ${this.what}`);
    const socket = await this.connection();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new PennError('UNAVAILABLE', `${this.what} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          if (reply.type === 'error') reject(new PennError('BAD_REQUEST', `${this.what}: ${String(reply.message)}`));
          else resolve(reply);
        },
        reject, timer,
      });
      socket.write(encodeJsonLine({ ...message, id }));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connection(): Promise<Socket> {
    if (this.socket !== null && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const localAddress = sourceAddressFor(this.sourceHost, this.host);
      const socket = connect({ port: this.port, host: this.host, ...(localAddress !== undefined ? { localAddress } : {}) });
      const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), this.timeoutMs);
      socket.once('connect', () => {
        authenticateToPeer(socket, this.secret, this.timeoutMs).then(() => {
          clearTimeout(timer);
          this.socket = socket;
          this.connecting = null;
          this.readReplies(socket);
          socket.resume();
          resolve(socket);
        }, (err: Error) => {
          clearTimeout(timer);
          this.connecting = null;
          reject(new PennError('UNAVAILABLE', `cannot authenticate to ${this.what} at ${this.host}:${this.port}: ${err.message}`, { reason: 'PEER_AUTH' }));
        });
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        if (this.connecting !== null) {
          this.connecting = null;
          reject(new PennError('UNAVAILABLE', `cannot reach ${this.what} at ${this.host}:${this.port}: ${err.message}`));
        }
      });
      socket.on('close', () => {
        if (this.socket === socket) this.socket = null;
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new PennError('UNAVAILABLE', `the connection to ${this.what} closed`));
          this.pending.delete(id);
        }
      });
    });
    return this.connecting;
  }

  private readReplies(socket: Socket): void {
    readJsonLines(socket, (message) => {
      const m = message as Record<string, unknown>;
      if (typeof m.id !== 'number') return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      p.resolve(m);
    });
  }
}
