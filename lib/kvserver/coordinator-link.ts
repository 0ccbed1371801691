/**
 * A node's line to the coordinator (docs/coordinator-protocol.md): one connection, a heartbeat
 * every interval carrying the node's report, views back as replies and as pushes, and join
 * requests on behalf of the primary. The connection comes back by itself after a loss, with a
 * bounded backoff, and proves the cluster secret before it says anything (peer-auth.ts). I/O
 * only: what a view means is the replica node's business.
 */
import { connect, type Socket } from 'node:net';
import type {
  CoordinatorPush, CoordinatorReply, CoordinatorRequest, NodeFigures, NodeHeartbeatReport, WireGroupView,
} from '../protocol/coordinator-wire.js';
import { encodeJsonLine, readJsonLines } from '../protocol/json-lines.js';
import type { Logger } from '../protocol/log.js';
import { authenticateToPeer } from '../protocol/peer-auth.js';
import { sourceAddressFor } from '../protocol/source-address.js';

/** First wait before reconnecting; it doubles on every failure up to the maximum. */
export const RECONNECT_BACKOFF_MIN_MS = 50;
/** Longest wait between two connection attempts (well under the failure timeout). */
export const RECONNECT_BACKOFF_MAX_MS = 500;
/** Requests awaiting a reply at once; past it the oldest is given up (the coordinator is stuck). */
export const COORDINATOR_PENDING_MAX = 64;
/** How long a join or a split registration waits for its answer. */
export const JOIN_REPLY_TIMEOUT_MS = 5_000;
/** Bytes queued to a coordinator that does not read before the connection is dropped. */
const WRITE_BACKLOG_BYTES_MAX = 1024 * 1024;

export interface CoordinatorLinkOptions {
  host: string;
  port: number;
  heartbeatIntervalMs: number;
  /** The node's configured host: the connection leaves from it (lib/protocol/source-address.ts). */
  sourceHost?: string;
  /** The cluster secret the connection proves before its first heartbeat. */
  secret: Buffer;
  log: Logger;
}

/** What the link asks and tells the node; replaced once the node is past recovery. */
export interface CoordinatorLinkHandler {
  /** What to say in the next heartbeat. */
  report(): { report: NodeHeartbeatReport; figures: NodeFigures };
  /**
   * A view of this node's group. `sentAtMs` is when the heartbeat it answers left (null for a
   * push): the coordinator heard from the node no earlier than that.
   */
  onView(view: WireGroupView, sentAtMs: number | null): void;
  /** The admin disabled (true) or enabled (false) this node. */
  onDisabled(disabled: boolean): void;
}

/** The handler of a node still loading its checkpoints and log: it reports, and takes no role. */
export function recoveringHandler(nodeId: number, incarnation: string): CoordinatorLinkHandler {
  return {
    report: () => ({
      report: { nodeId, incarnation, phase: 'recovering', lastSeq: 0, lastSeqView: 0 },
      figures: { tablets: 0, memoryBytes: 0, logBytes: 0, lastCheckpoint: null },
    }),
    onView: () => undefined,
    onDisabled: () => undefined,
  };
}

interface Pending {
  settle: (reply: CoordinatorReply | null) => void;
}

export class CoordinatorLink {
  private socket: Socket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoffMs = RECONNECT_BACKOFF_MIN_MS;
  private stopped = false;

  constructor(private readonly options: CoordinatorLinkOptions, public handler: CoordinatorLinkHandler) {}

  start(): void {
    this.connect();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatIntervalMs);
  }

  /** Sends a heartbeat now (also after a change worth telling at once, such as a new phase). */
  heartbeat(): void {
    const { report, figures } = this.handler.report();
    void this.request({ type: 'heartbeat', report, figures }).then((answer) => {
      if (answer === null || answer.reply.type !== 'view') return;
      this.handler.onDisabled(answer.reply.disabled);
      this.handler.onView(answer.reply.view, answer.sentAtMs);
    });
  }

  /** Asks the coordinator to make `nodeId` a secondary of `view`: true when it did. */
  async join(request: { group: number; view: number; primary: number; nodeId: number }): Promise<boolean> {
    const reply = await this.request({ type: 'join', ...request }, JOIN_REPLY_TIMEOUT_MS);
    return reply !== null && reply.reply.type === 'ok';
  }

  /** Tells the coordinator that rows from `row` on form a tablet of `group`: true once it took it. */
  async split(group: number, row: string): Promise<boolean> {
    const reply = await this.request({ type: 'split', group, row }, JOIN_REPLY_TIMEOUT_MS);
    return reply !== null && reply.reply.type === 'ok';
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.failPending();
  }

  private connect(): void {
    if (this.stopped) return;
    const localAddress = sourceAddressFor(this.options.sourceHost, this.options.host);
    const socket = connect({ host: this.options.host, port: this.options.port, ...(localAddress !== undefined ? { localAddress } : {}) });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      authenticateToPeer(socket, this.options.secret).then(() => {
        if (socket.destroyed) return;
        this.socket = socket;
        this.backoffMs = RECONNECT_BACKOFF_MIN_MS;
        this.options.log.debug('connected to the coordinator');
        readJsonLines(socket, (m) => this.onMessage(m as CoordinatorReply | CoordinatorPush),
          (err) => this.options.log.warn('the coordinator sent a bad line; reconnecting', { problem: err.message }));
        socket.resume();
        this.heartbeat();
      }, (err: Error) => this.options.log.warn('could not authenticate to the coordinator', { problem: err.message }));
    });
    socket.on('error', (err) => this.options.log.debug('coordinator connection error', { err: err.message }));
    socket.once('close', () => {
      if (this.socket === socket) this.socket = null;
      this.failPending();
      if (this.stopped) return;
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_BACKOFF_MAX_MS);
    });
  }

  private onMessage(message: CoordinatorReply | CoordinatorPush): void {
    if (!('id' in message)) {
      if (message.type === 'view') this.handler.onView(message.view, null);
      else this.handler.onDisabled(message.type === 'disable');
      return;
    }
    const p = this.pending.get(message.id);
    if (p === undefined) return;
    this.pending.delete(message.id);
    p.settle(message);
  }

  /** Sends a request; resolves with its reply and when it left, or null if none came. */
  private request(body: DistributiveOmit<CoordinatorRequest, 'id'>, timeoutMs?: number): Promise<{ reply: CoordinatorReply; sentAtMs: number } | null> {
    const socket = this.socket;
    if (socket === null || socket.destroyed) return Promise.resolve(null);
    if (socket.writableLength > WRITE_BACKLOG_BYTES_MAX) {
      socket.destroy();
      return Promise.resolve(null);
    }
    const id = this.nextId++;
    const sentAtMs = Date.now();
    if (this.pending.size >= COORDINATOR_PENDING_MAX) {
      const oldest = this.pending.keys().next().value as number;
      this.pending.get(oldest)!.settle(null);
      this.pending.delete(oldest);
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const settle = (reply: CoordinatorReply | null): void => {
        if (timer !== null) clearTimeout(timer);
        if (reply === null) resolve(null);
        else resolve({ reply, sentAtMs });
      };
      this.pending.set(id, { settle });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          if (this.pending.delete(id)) resolve(null);
        }, timeoutMs);
      }
      socket.write(encodeJsonLine({ id, ...body }));
    });
  }

  private failPending(): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.settle(null);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
