/**
 * The primary's side of catching up by snapshot (docs/kv-replication.md): a node whose log
 * diverged from this one, or lags behind what this log still holds, gets every tablet this
 * node holds and the recent-origins table, in chunks, then catches up by log from the
 * snapshot point like any learner.
 *
 * The snapshot point `seq` is the last record sequenced when the snapshot starts; the origins
 * table is taken at that moment. Tablets are then encoded one at a time (only one is ever
 * copied in memory), each as of the seq current when its turn comes, so a tablet may reflect
 * records after the snapshot point: the receiver logs those without applying them again. The
 * end is sent only once every record up to the highest of those seqs is committed, so no
 * failover can take back anything the snapshot holds. From the start until the receiver has
 * caught up by log, the log from `seq + 1` on is pinned (checkpoint rounds keep it).
 */
import { randomInt } from 'node:crypto';
import type { PeerMessage, SnapshotPart } from '../protocol/kv-peer-codec.js';
import type { Logger } from '../protocol/log.js';
import type { KvStore } from './kv-store.js';
import type { PeerLinks } from './peer-links.js';
import { encodeOrigins } from './snapshot-origins.js';

/** Bytes of tablet or origins data in one chunk at most (also below the frame limit). */
export const SNAPSHOT_CHUNK_BYTES_MAX = 256 * 1024;
/** Chunks sent and not yet acknowledged as written, at most: what waits for the peer's disk. */
export const SNAPSHOT_WINDOW_CHUNKS = 16;
/** How long the sender waits for the window to move (or its socket to drain) before giving up. */
export const SNAPSHOT_ACK_WAIT_MS = 10_000;
/** How long after the end the log stays pinned for the receiver's catch-up at most. */
export const SNAPSHOT_LOG_PIN_MS = 60_000;
/** Least time between two snapshots started for the same peer (a peer that keeps failing). */
export const SNAPSHOT_RESTART_MIN_MS = 1_000;
/**
 * How long after a snapshot starts an ask to catch up from its peer may still have crossed
 * the snapshot's first message (rather than mean the peer lost the stream): far more than a
 * message takes, as the first message leaves at once.
 */
export const SNAPSHOT_ASK_CROSSING_MS = 1_000;

type Ack = Extract<PeerMessage, { kind: 'snapshot-ack' }>;
type WithoutView<M> = M extends unknown ? Omit<M, 'view'> : never;
/** A message this sender sends, before the current view is put in. */
type Outgoing = WithoutView<Extract<PeerMessage, { kind: 'snapshot-begin' | 'snapshot-chunk' | 'snapshot-end' }>>;

class SnapshotAbort extends Error {}

interface Stream {
  snapshotId: number;
  acked: number;
  refused: boolean;
  /** Wakes the sender when an ack arrives. */
  wake: (() => void) | null;
  /** Set once the end was sent. */
  done: boolean;
  point: { seq: number; view: number };
  pinTimer: NodeJS.Timeout | null;
  startedAtMs: number;
}

/** What the sender needs from its node. */
export interface SnapshotSenderOptions {
  store: KvStore;
  peers: PeerLinks;
  log: Logger;
  /** This node's current view while it is the primary, else null. */
  primaryView: () => number | null;
  /** Resolves once `seq` is committed; rejects if it may never be. */
  waitCommitted: (seq: number) => Promise<void>;
  /** Largest chunk the peer's frame limit lets through. */
  chunkBytesMax: number;
}

/** Snapshots this primary sends, at most one per peer at a time. */
export class SnapshotSender {
  private readonly streams = new Map<number, Stream>();
  private readonly startedAtMs = new Map<number, number>();

  constructor(private readonly options: SnapshotSenderOptions) {}

  /** Whether a snapshot is being sent to `peer` (its end not yet sent). */
  sending(peer: number): boolean {
    const stream = this.streams.get(peer);
    return stream !== undefined && !stream.done;
  }

  /** The point of the last snapshot sent whole to `peer`, while its catch-up is awaited. */
  point(peer: number): { seq: number; view: number } | undefined {
    const stream = this.streams.get(peer);
    return stream?.done === true ? stream.point : undefined;
  }

  /** Starts sending `peer` a snapshot, unless one is under way or one started just now. */
  start(peer: number): void {
    if (this.sending(peer)) return;
    if (this.options.primaryView() === null) return;
    const last = this.startedAtMs.get(peer);
    if (last !== undefined && Date.now() - last < SNAPSHOT_RESTART_MIN_MS) return;
    this.startedAtMs.set(peer, Date.now());
    this.end(peer);
    const { store } = this.options;
    const stream: Stream = {
      snapshotId: randomInt(1, 2 ** 47), acked: 0, refused: false, wake: null, done: false,
      point: { seq: store.lastSeq, view: store.lastSeqView }, pinTimer: null, startedAtMs: Date.now(),
    };
    this.streams.set(peer, stream);
    store.pinLog(peer, stream.point.seq + 1);
    this.options.log.info('sending a snapshot', { peer, snapshotId: stream.snapshotId, seq: stream.point.seq });
    this.run(peer, stream).catch((err: unknown) => {
      if (this.streams.get(peer) !== stream) return;
      this.options.log.warn('snapshot to a peer abandoned; it asks again', { peer, snapshotId: stream.snapshotId, reason: (err as Error).message });
      this.end(peer);
    });
  }

  /**
   * `peer` asks to catch up by log while its snapshot streams. A receiver asks nothing while it
   * receives, so once it has acknowledged a chunk, or some time after the start, this means it
   * lost the stream (it restarted, or gave up on it): the stream ends, and the ask is answered
   * (with another snapshot). Just after the start, the ask may have crossed the stream's first
   * message and is ignored. True while the stream goes on.
   */
  askedWhileSending(peer: number): boolean {
    const stream = this.streams.get(peer);
    if (stream === undefined || stream.done) return false;
    if (stream.acked === 0 && Date.now() - stream.startedAtMs < SNAPSHOT_ASK_CROSSING_MS) return true;
    this.options.log.warn('a peer asked to catch up in the middle of its snapshot; it lost it', { peer, snapshotId: stream.snapshotId });
    this.end(peer);
    return false;
  }

  /** An ack from the receiver. */
  acked(peer: number, ack: Ack): void {
    const stream = this.streams.get(peer);
    if (stream === undefined || stream.snapshotId !== ack.snapshotId || stream.done) return;
    if (ack.refused) stream.refused = true;
    else stream.acked = Math.max(stream.acked, ack.chunks);
    stream.wake?.();
  }

  /** The receiver caught up by log from the snapshot point: its log pin goes. */
  caughtUp(peer: number): void {
    if (this.streams.get(peer)?.done === true) this.end(peer);
  }

  /** Ends whatever is sent to `peer` (abandons a stream, releases the pin). */
  end(peer: number): void {
    const stream = this.streams.get(peer);
    if (stream === undefined) return;
    this.streams.delete(peer);
    if (stream.pinTimer !== null) clearTimeout(stream.pinTimer);
    this.options.store.unpinLog(peer);
    stream.wake?.();
  }

  /** This node is no longer primary: every snapshot ends. */
  stopAll(): void {
    for (const peer of [...this.streams.keys()]) this.end(peer);
  }

  private check(peer: number, stream: Stream): void {
    if (this.streams.get(peer) !== stream) throw new SnapshotAbort('ended');
    if (stream.refused) throw new SnapshotAbort('the peer refused it');
    if (this.options.primaryView() === null) throw new SnapshotAbort('this node is no longer the primary');
  }

  /** Sends with the current view (a view change that keeps this node primary changes nothing). */
  private send(peer: number, stream: Stream, message: Outgoing): void {
    this.check(peer, stream);
    this.options.peers.send(peer, { ...message, view: this.options.primaryView()! } as PeerMessage);
  }

  private async run(peer: number, stream: Stream): Promise<void> {
    const { store } = this.options;
    const { seq, view: seqView } = stream.point;
    const origins = encodeOrigins(store.origins.entries(), seq);
    this.send(peer, stream, { kind: 'snapshot-begin', snapshotId: stream.snapshotId, seq, seqView });
    let index = 0;
    let coveredSeq = seq;
    let tablets = 0;
    let cursor = '';
    for (;;) {
      const slot = store.slots.all().find((s) => s.start >= cursor);
      if (slot === undefined) break;
      const tablet = await store.snapshotTablet(slot.start);
      this.check(peer, stream);
      if (tablet === null) throw new SnapshotAbort(`the tablet starting at ${JSON.stringify(slot.start)} could not be read`);
      coveredSeq = Math.max(coveredSeq, tablet.seq);
      index = await this.sendPart(peer, stream, 'tablet', tablet.bytes, index);
      tablets++;
      if (tablet.end === null) break;
      cursor = tablet.end;
    }
    index = await this.sendPart(peer, stream, 'origins', origins, index);
    await this.waitFor(peer, stream, () => stream.acked >= index, 'the peer did not write the snapshot');
    await this.committed(peer, stream, coveredSeq);
    this.send(peer, stream, { kind: 'snapshot-end', snapshotId: stream.snapshotId, chunkCount: index, coveredSeq });
    stream.done = true;
    stream.pinTimer = setTimeout(() => this.end(peer), SNAPSHOT_LOG_PIN_MS);
    stream.pinTimer.unref();
    this.options.log.info('snapshot sent', { peer, snapshotId: stream.snapshotId, seq, coveredSeq, tablets, chunks: index });
  }

  /** Sends `bytes` as the chunks of one part, within the window; returns the next chunk index. */
  private async sendPart(peer: number, stream: Stream, part: SnapshotPart, bytes: Buffer, first: number): Promise<number> {
    const size = Math.max(1, Math.min(SNAPSHOT_CHUNK_BYTES_MAX, this.options.chunkBytesMax));
    let index = first;
    for (let offset = 0; offset < bytes.length; offset += size) {
      const sent = index;
      await this.waitFor(peer, stream, () => sent - stream.acked < SNAPSHOT_WINDOW_CHUNKS, 'the peer stopped acknowledging the snapshot');
      const final = offset + size >= bytes.length;
      this.send(peer, stream, {
        kind: 'snapshot-chunk', snapshotId: stream.snapshotId, index, part, final,
        bytes: bytes.subarray(offset, offset + size),
      });
      index++;
      await this.drained(peer, stream);
    }
    return index;
  }

  /** Waits (bounded) until the socket to `peer` takes more. */
  private async drained(peer: number, stream: Stream): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), SNAPSHOT_ACK_WAIT_MS); });
    const outcome = await Promise.race([this.options.peers.drained(peer).then(() => 'drained' as const), late]);
    clearTimeout(timer);
    if (outcome === 'late') throw new SnapshotAbort(`the connection to the peer did not drain within ${SNAPSHOT_ACK_WAIT_MS} ms`);
    this.check(peer, stream);
  }

  /** Waits (bounded) for `ready`, woken by acks; throws when the stream ended or timed out. */
  private async waitFor(peer: number, stream: Stream, ready: () => boolean, why: string): Promise<void> {
    const deadline = Date.now() + SNAPSHOT_ACK_WAIT_MS;
    for (;;) {
      this.check(peer, stream);
      if (ready()) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new SnapshotAbort(`${why} within ${SNAPSHOT_ACK_WAIT_MS} ms`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        stream.wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      stream.wake = null;
    }
  }

  private async committed(peer: number, stream: Stream, seq: number): Promise<void> {
    try {
      await this.options.waitCommitted(seq);
    } catch (err) {
      throw new SnapshotAbort(`seq ${seq} was not committed: ${(err as Error).message}`);
    }
    this.check(peer, stream);
  }
}
