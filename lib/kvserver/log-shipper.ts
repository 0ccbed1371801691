/**
 * The primary's resends: a peer that lacks records (a new secondary answering a probe, a
 * learner catching up, a gap after a lost message) gets every record after the seq it holds,
 * from a window of recent records kept in memory or else from the log on disk, in seq order.
 * While a resend to a peer runs, live records for it are not sent (they would only arrive
 * before their predecessors and be refused as gaps); the resend ends the moment it has sent
 * the last record sequenced, so the next one goes out live.
 *
 * A peer whose log is not a prefix of this one, or that lacks records this log no longer
 * holds (checkpoints dropped them), cannot be caught up this way: the caller is told, and
 * sends it a snapshot (snapshot-sender.ts); then the peer asks again from the snapshot point.
 */
import type { Logger } from '../protocol/log.js';
import type { KvStore } from './kv-store.js';
import type { PeerLinks } from './peer-links.js';
import type { WalRecord } from './wal-record.js';
import { encodeLogRecord } from '../protocol/kv-log-record.js';

/**
 * Recent records kept for resends: at most this many (a gap left by a lost message, a
 * secondary a few records behind a new primary)... Every record held here outlives its write
 * by this many writes: with 8192 most of them were copied by a young-generation collection and
 * many promoted, and replicated PUTs of 100 bytes ran about 6% slower than with 1024 (paired
 * runs). A resend reaching further back reads the log on disk (in the page cache, that recent).
 */
export const RECENT_RECORDS_MAX = 1024;
/**
 * ...and at most this many bytes of values. Small: every value held here outlives its write,
 * and long ones (file chunks) held by the tens then pass into the old generation of the heap,
 * where only full collections free them. Uploads ran about a fifth faster with 4 MiB than with
 * 32 MiB (256 MiB into three replicas). A resend reaching further back reads the log on disk.
 */
export const RECENT_RECORD_BYTES_MAX = 4 * 1024 * 1024;
/** Records read from the log per page of a resend. */
export const RESEND_PAGE_RECORDS = 256;

/** What the shipper asks of, and tells, the snapshot side. */
export interface LogShipperSnapshots {
  /** The point (seq, view) of a snapshot just sent to `peer`: its log ends there. */
  point(peer: number): { seq: number; view: number } | undefined;
  /** A resend to `peer` reached the last record sequenced. */
  caughtUp(peer: number): void;
}

/**
 * Records contiguous in seq, oldest first, in a ring: dropping the oldest is O(1) (an array's
 * shift() moves every element, which at thousands of records cost more than the rest of a
 * replicated write's bookkeeping).
 */
export class RecordWindow {
  private readonly ring: (WalRecord | undefined)[];
  private head = 0;
  length = 0;
  /** Value bytes of the PUT records held. */
  valueBytes = 0;

  constructor(private readonly capacity: number) {
    this.ring = new Array<WalRecord | undefined>(capacity);
  }

  get first(): WalRecord | undefined {
    return this.length === 0 ? undefined : this.ring[this.head];
  }

  get last(): WalRecord | undefined {
    return this.length === 0 ? undefined : this.ring[(this.head + this.length - 1) % this.capacity];
  }

  /** The record of `seq`, if held. */
  get(seq: number): WalRecord | undefined {
    const first = this.first;
    if (first === undefined || seq < first.seq || seq >= first.seq + this.length) return undefined;
    return this.ring[(this.head + seq - first.seq) % this.capacity];
  }

  /** Appends `record`; the oldest goes first when the ring is full. */
  push(record: WalRecord): void {
    if (this.length === this.capacity) this.dropOldest();
    this.ring[(this.head + this.length) % this.capacity] = record;
    this.length++;
    this.valueBytes += record.op === 'PUT' ? record.value.length : 0;
  }

  dropOldest(): void {
    const old = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
    this.valueBytes -= old.op === 'PUT' ? old.value.length : 0;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.length = 0;
    this.valueBytes = 0;
  }
}

export class LogShipper {
  /** Recent records, oldest first, contiguous in seq. */
  private readonly recent = new RecordWindow(RECENT_RECORDS_MAX);
  /** Per peer: the generation of its running resend (a newer resend ends an older one). */
  private readonly resends = new Map<number, number>();
  private generation = 0;

  constructor(
    private readonly store: KvStore,
    private readonly peers: PeerLinks,
    private readonly log: Logger,
    /** The current view and last sequenced seq, read at every step. */
    private readonly now: () => { view: number; lastSeq: number },
    private readonly snapshots: LogShipperSnapshots,
  ) {}

  /** Keeps a sequenced or applied record for resends. */
  remember(record: WalRecord): void {
    const last = this.recent.last;
    if (last !== undefined && record.seq !== last.seq + 1) this.forget();
    this.recent.push(record);
    while (this.recent.valueBytes > RECENT_RECORD_BYTES_MAX) this.recent.dropOldest();
  }

  /** Drops the window (the log was replaced, or is no longer contiguous with it). */
  forget(): void {
    this.recent.clear();
  }

  /** Whether live records for `peer` are held back by a running resend. */
  resending(peer: number): boolean {
    return this.resends.has(peer);
  }

  /**
   * Starts (or restarts) sending `peer` every record after `afterSeq`. When `afterSeqView` is a
   * view (> 0), the peer's record at `afterSeq` was written in it: if this log holds another
   * record there, or none, the peer's log is not a prefix of this one and it gets nothing
   * (`onNeedsSnapshot`); otherwise `onPrefixOk` is called before the first record goes out.
   * The same happens when this log no longer reaches back to `afterSeq`.
   */
  resend(peer: number, afterSeq: number, afterSeqView: number, onNeedsSnapshot: () => void, onPrefixOk: () => void): void {
    const generation = ++this.generation;
    this.resends.set(peer, generation);
    this.checkPrefix(peer, afterSeq, afterSeqView).then((prefix) => {
      if (!this.current(peer, generation)) return undefined;
      if (!prefix) {
        this.log.warn('a peer\'s log is not a prefix of what this primary still holds; it needs a snapshot', { peer, afterSeq, afterSeqView });
        this.resends.delete(peer);
        onNeedsSnapshot();
        return undefined;
      }
      onPrefixOk();
      if (!this.current(peer, generation)) return undefined;
      return this.run(peer, afterSeq, generation, onNeedsSnapshot);
    }).catch((err: unknown) => {
      this.log.warn('resend to a peer failed; the next retransmission tries again', { peer, err: (err as Error).message });
      if (this.resends.get(peer) === generation) this.resends.delete(peer);
    });
  }

  /** Stops every resend (this node is no longer primary). */
  stopAll(): void {
    this.resends.clear();
  }

  /** Stops the resend to `peer`, if one runs (it gets a snapshot instead). */
  stop(peer: number): void {
    this.resends.delete(peer);
  }

  /** Whether a log ending at `seq` written in `view` is a prefix of this one. */
  private async checkPrefix(peer: number, seq: number, view: number): Promise<boolean> {
    if (seq > this.now().lastSeq) return false;
    if (view <= 0 || seq === 0) return true; // no view known to compare: the gap check guards order
    // Just installed the snapshot this node sent: its log ends at the snapshot point, which
    // this log may no longer hold.
    const point = this.snapshots.point(peer);
    if (point !== undefined && point.seq === seq && point.view === view) return true;
    const recent = this.recent.get(seq);
    const mine = recent !== undefined ? recent.view : await this.store.viewAt(seq);
    return mine === view;
  }

  private current(peer: number, generation: number): boolean {
    return this.resends.get(peer) === generation;
  }

  private async run(peer: number, afterSeq: number, generation: number, onNeedsSnapshot: () => void): Promise<void> {
    let cursor = afterSeq;
    for (;;) {
      if (!this.current(peer, generation)) return;
      const { lastSeq } = this.now();
      if (cursor >= lastSeq) {
        this.resends.delete(peer); // caught up: the next record goes out live
        this.snapshots.caughtUp(peer);
        return;
      }
      // From memory, synchronously, when the window reaches back far enough.
      const first = this.recent.first;
      if (first !== undefined && first.seq <= cursor + 1 && this.recent.last!.seq >= lastSeq) {
        for (let seq = cursor + 1; seq <= this.recent.last!.seq; seq++) this.ship(peer, this.recent.get(seq)!);
        this.resends.delete(peer);
        this.snapshots.caughtUp(peer);
        return;
      }
      await this.store.waitDurable(Math.min(lastSeq, cursor + RESEND_PAGE_RECORDS));
      const page = await this.store.readLogAfter(cursor, RESEND_PAGE_RECORDS);
      if (!this.current(peer, generation)) return;
      if (page === null || page.records.length === 0 || page.records[0]!.seq !== cursor + 1) {
        this.log.warn('the log no longer reaches back to what a peer lacks; it needs a snapshot', { peer, afterSeq: cursor });
        this.resends.delete(peer);
        onNeedsSnapshot();
        return;
      }
      for (const record of page.records) {
        if (record.seq > this.now().lastSeq) break;
        this.ship(peer, record);
        cursor = record.seq;
      }
      await this.peers.drained(peer);
    }
  }

  private ship(peer: number, record: WalRecord): void {
    this.peers.sendRecord(peer, this.now().view, { record, encoded: encodeLogRecord(record) });
  }
}
