/**
 * Outgoing connections from this node to the other nodes of its group, one per peer, carrying
 * replication messages (kv-peer-codec.ts) one way. Messages sent while a peer is unreachable
 * wait in a bounded queue and go out when the connection comes back; past the bound they are
 * dropped, which replication survives: the primary resends what a peer has not acknowledged
 * (ReplicaCore.retransmit), and a replica acks what it already holds. A connection carries
 * nothing before both ends have proven the cluster secret (lib/protocol/peer-auth.ts).
 */
import { connect, type Socket } from 'node:net';
import { KvOutbox } from '../protocol/kv-outbox.js';
import { encodePeerMessage, encodeReplicate, replicateRecordBytesMax, type EncodedLogRecord, type PeerMessage } from '../protocol/kv-peer-codec.js';
import { kvFrameBytesMax } from '../protocol/kv-wire.js';
import type { Logger } from '../protocol/log.js';
import { authenticateToPeer } from '../protocol/peer-auth.js';
import { sourceAddressFor } from '../protocol/source-address.js';

/** Bytes queued for one unreachable peer before messages are dropped. */
export const PEER_QUEUE_BYTES_MAX = 64 * 1024 * 1024;
/** Bytes written to a peer's socket and not yet taken by the kernel, past which sends wait. */
export const PEER_SOCKET_BACKLOG_BYTES_MAX = 16 * 1024 * 1024;
/** First wait before reconnecting to a peer; doubles per failure up to the maximum. */
export const PEER_RECONNECT_MIN_MS = 20;
export const PEER_RECONNECT_MAX_MS = 500;
/** How long a connection attempt may take. */
export const PEER_CONNECT_TIMEOUT_MS = 2_000;
/**
 * Record bytes one REPLICATE frame gathers at most, and never more than the peer's frame limit
 * allows (two values, kv-wire.ts); a record past it starts the next frame. A record of the
 * longest value always fits a frame of its own.
 */
export const REPLICATE_BATCH_BYTES_MAX = 256 * 1024;

export interface PeerAddress {
  id: number;
  host: string;
  port: number;
  /** The peer's Unix-domain socket on this host (local-socket.ts), tried before TCP. */
  localPath?: string | null;
}

/** Records gathered for one REPLICATE frame. */
interface RecordBatch {
  view: number;
  parts: Buffer[];
  count: number;
  bytes: number;
}

class PeerLink {
  private socket: Socket | null = null;
  /** Records sent in this turn of the event loop, leaving as one REPLICATE frame. */
  private batch: RecordBatch | null = null;
  private outbox: KvOutbox | null = null;
  private connecting = false;
  private queue: Buffer[][] = [];
  private queueBytes = 0;
  private backoffMs = PEER_RECONNECT_MIN_MS;
  /** The next attempt goes to the peer's Unix-domain socket (after a failed one, TCP's turn). */
  private tryLocal: boolean;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Resolvers of `drained()` callers, released when the socket drains. */
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly selfId: number,
    private readonly address: PeerAddress,
    /** Record bytes one REPLICATE frame carries at most. */
    private readonly batchBytesMax: number,
    private readonly log: Logger,
    private readonly secret: Buffer,
    /** Where TCP connections leave from: the node's own configured host (source-address.ts). */
    private readonly localAddress: string | undefined,
  ) {
    this.tryLocal = (address.localPath ?? null) !== null;
  }

  /**
   * Sends a record of `view`: the records sent in one turn (up to the batch limit) leave in one
   * frame, before any other message sent after them.
   */
  sendRecord(view: number, record: EncodedLogRecord): void {
    if (this.closed) return;
    let bytes = 0;
    for (const p of record.encoded) bytes += p.length;
    let batch = this.batch;
    if (batch !== null && (batch.view !== view || batch.bytes + bytes > this.batchBytesMax)) {
      this.closeBatch();
      batch = null;
    }
    if (batch === null) {
      batch = { view, parts: [], count: 0, bytes: 0 };
      this.batch = batch;
      process.nextTick(() => {
        if (this.batch === batch) this.closeBatch();
      });
    }
    for (const p of record.encoded) batch.parts.push(p);
    batch.count++;
    batch.bytes += bytes;
  }

  /** Sends the records gathered so far as one frame. */
  private closeBatch(): void {
    const batch = this.batch;
    if (batch === null) return;
    this.batch = null;
    this.sendFrame(encodeReplicate(this.selfId, batch.view, batch.count, batch.parts, batch.bytes));
  }

  send(frame: Buffer[]): void {
    if (this.closed) return;
    this.closeBatch();
    this.sendFrame(frame);
  }

  private sendFrame(frame: Buffer[]): void {
    if (this.outbox !== null) {
      this.outbox.push(frame);
      return;
    }
    let bytes = 0;
    for (const p of frame) bytes += p.length;
    if (this.queueBytes + bytes > PEER_QUEUE_BYTES_MAX) return; // retransmission repairs it
    this.queue.push(frame);
    this.queueBytes += bytes;
    this.ensureConnecting();
  }

  /** Resolves when the socket can take more (flow control for a long resend). */
  drained(): Promise<void> {
    const socket = this.socket;
    if (socket === null || socket.writableLength <= PEER_SOCKET_BACKLOG_BYTES_MAX) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private ensureConnecting(): void {
    if (this.connecting || this.socket !== null || this.retryTimer !== null || this.closed) return;
    this.connecting = true;
    // A peer on this host is reached over its Unix-domain socket (local-socket.ts); after an
    // attempt there failed, the next one is over TCP, and the one after that there again.
    const path = this.tryLocal ? this.address.localPath! : null;
    this.tryLocal = path === null && (this.address.localPath ?? null) !== null;
    const socket = path !== null ? connect({ path })
      : connect({ host: this.address.host, port: this.address.port, ...(this.localAddress !== undefined ? { localAddress: this.localAddress } : {}) });
    if (path === null) socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(), PEER_CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      authenticateToPeer(socket, this.secret, PEER_CONNECT_TIMEOUT_MS).then(() => this.onAuthenticated(socket, timer),
        (err: Error) => this.log.warn('peer did not authenticate', { peer: this.address.id, problem: err.message }));
    });
    socket.on('drain', () => this.releaseDrainWaiters());
    socket.on('error', (err) => this.log.debug('peer connection error', { peer: this.address.id, err: err.message }));
    socket.once('close', () => {
      clearTimeout(timer);
      this.connecting = false;
      if (this.socket === socket) {
        this.socket = null;
        this.outbox = null;
      }
      this.releaseDrainWaiters();
      if (this.closed) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (this.queue.length > 0) this.ensureConnecting();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, PEER_RECONNECT_MAX_MS);
    });
  }

  /** The peer proved the cluster secret: the connection carries what waited. */
  private onAuthenticated(socket: Socket, timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    if (socket.destroyed) return;
    this.connecting = false;
    this.socket = socket;
    this.tryLocal = (this.address.localPath ?? null) !== null;
    this.outbox = new KvOutbox(socket);
    this.backoffMs = PEER_RECONNECT_MIN_MS;
    const queued = this.queue;
    this.queue = [];
    this.queueBytes = 0;
    for (const frame of queued) this.outbox.push(frame);
    socket.on('data', () => undefined); // peers never answer on this connection
    socket.resume();
  }

  private releaseDrainWaiters(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.socket?.destroy();
    this.queue = [];
    this.batch = null;
    this.releaseDrainWaiters();
  }
}

/** The links of one node to its peers, opened on first use. */
export class PeerLinks {
  private readonly links = new Map<number, PeerLink>();
  private readonly batchBytesMax: number;

  /**
   * `valueBytesMax`: the group's kv.valueBytesMax, which sets the frame limit of every peer.
   * `selfHost`: this node's configured host, which its connections to peers leave from.
   */
  constructor(
    private readonly selfId: number,
    private readonly peers: PeerAddress[],
    valueBytesMax: number,
    private readonly log: Logger,
    private readonly secret: Buffer,
    private readonly selfHost?: string,
  ) {
    this.batchBytesMax = Math.min(REPLICATE_BATCH_BYTES_MAX, replicateRecordBytesMax(kvFrameBytesMax(valueBytesMax)));
  }

  send(to: number, message: PeerMessage): void {
    this.link(to)?.send(encodePeerMessage(this.selfId, message));
  }

  /**
   * Sends `to` a record the primary of `view` sequenced (or resends it). Its bytes go out as
   * they are, in a REPLICATE frame with the other records sent in this turn.
   */
  sendRecord(to: number, view: number, record: EncodedLogRecord): void {
    this.link(to)?.sendRecord(view, record);
  }

  drained(to: number): Promise<void> {
    return this.link(to)?.drained() ?? Promise.resolve();
  }

  private link(to: number): PeerLink | undefined {
    let link = this.links.get(to);
    if (link === undefined) {
      const address = this.peers.find((p) => p.id === to);
      if (address === undefined) {
        this.log.warn('message for a node that is not a peer', { to });
        return undefined;
      }
      link = new PeerLink(this.selfId, address, this.batchBytesMax, this.log, this.secret, sourceAddressFor(this.selfHost, address.host));
      this.links.set(to, link);
    }
    return link;
  }

  close(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }
}
