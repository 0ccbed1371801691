/**
 * The primary's resends: a peer that lacks records (a new secondary answering a probe, a
 * learner catching up, a gap after a lost message) gets every record after the seq it holds,
 * from a window of recent records kept in memory or else from the log on disk, in seq order.
 * While a resend to a peer runs, live records for it are not sent (they would only arrive
 * before their predecessors and be refused as gaps); the resend ends the moment it has sent
 * the last record sequenced, so the next one goes out live.
 */
import type { Logger } from '../protocol/log.js';
import type { KvStore } from './kv-store.js';
import type { PeerLinks } from './peer-links.js';
import type { WalRecord } from './wal-record.js';

/** Recent records kept for resends: at most this many... */
export const RECENT_RECORDS_MAX = 8192;
/** ...and at most this many bytes of values. */
export const RECENT_RECORD_BYTES_MAX = 32 * 1024 * 1024;
/** Records read from the log per page of a resend. */
export const RESEND_PAGE_RECORDS = 256;

export class LogShipper {
  /** Recent records, oldest first, contiguous in seq. */
  private recent: WalRecord[] = [];
  private recentBytes = 0;
  /** Per peer: the generation of its running resend (a newer resend ends an older one). */
  private readonly resends = new Map<number, number>();
  private generation = 0;

  constructor(
    private readonly store: KvStore,
    private readonly peers: PeerLinks,
    private readonly log: Logger,
    /** The current view and last sequenced seq, read at every step. */
    private readonly now: () => { view: number; lastSeq: number },
  ) {}

  /** Keeps a sequenced or applied record for resends. */
  remember(record: WalRecord): void {
    const last = this.recent.at(-1);
    if (last !== undefined && record.seq !== last.seq + 1) this.forget();
    this.recent.push(record);
    this.recentBytes += record.op === 'PUT' ? record.value.length : 0;
    while (this.recent.length > RECENT_RECORDS_MAX || this.recentBytes > RECENT_RECORD_BYTES_MAX) {
      const old = this.recent.shift()!;
      this.recentBytes -= old.op === 'PUT' ? old.value.length : 0;
    }
  }

  /** Drops the window (the log was replaced, or is no longer contiguous with it). */
  forget(): void {
    this.recent = [];
    this.recentBytes = 0;
  }

  /** Whether live records for `peer` are held back by a running resend. */
  resending(peer: number): boolean {
    return this.resends.has(peer);
  }

  /**
   * Starts (or restarts) sending `peer` every record after `afterSeq`. When `afterSeqView` is a
   * view (> 0), the peer's record at `afterSeq` was written in it: if this log holds another
   * record there, or none, the peer's log is not a prefix of this one and it gets nothing
   * (`onDiverged`); it needs a snapshot.
   */
  resend(peer: number, afterSeq: number, afterSeqView: number, onDiverged: () => void): void {
    const generation = ++this.generation;
    this.resends.set(peer, generation);
    this.checkPrefix(afterSeq, afterSeqView).then((prefix) => {
      if (!this.current(peer, generation)) return undefined;
      if (!prefix) {
        this.log.warn('a peer holds records this primary does not; it needs a snapshot to rejoin', { peer, afterSeq, afterSeqView });
        this.resends.delete(peer);
        onDiverged();
        return undefined;
      }
      return this.run(peer, afterSeq, generation);
    }).catch((err: unknown) => {
      this.log.warn('resend to a peer failed; the next retransmission tries again', { peer, err: (err as Error).message });
      if (this.resends.get(peer) === generation) this.resends.delete(peer);
    });
  }

  /** Stops every resend (this node is no longer primary). */
  stopAll(): void {
    this.resends.clear();
  }

  /** Whether a log ending at `seq` written in `view` is a prefix of this one. */
  private async checkPrefix(seq: number, view: number): Promise<boolean> {
    if (seq > this.now().lastSeq) return false;
    if (view <= 0 || seq === 0) return true; // no view known to compare: the gap check guards order
    const recent = this.recent[0] !== undefined && seq >= this.recent[0].seq ? this.recent[seq - this.recent[0].seq] : undefined;
    const mine = recent?.seq === seq ? recent.view : await this.store.viewAt(seq);
    return mine === view;
  }

  private current(peer: number, generation: number): boolean {
    return this.resends.get(peer) === generation;
  }

  private async run(peer: number, afterSeq: number, generation: number): Promise<void> {
    let cursor = afterSeq;
    for (;;) {
      if (!this.current(peer, generation)) return;
      const { lastSeq } = this.now();
      if (cursor >= lastSeq) {
        this.resends.delete(peer); // caught up: the next record goes out live
        return;
      }
      // From memory, synchronously, when the window reaches back far enough.
      const first = this.recent[0];
      if (first !== undefined && first.seq <= cursor + 1 && this.recent.at(-1)!.seq >= lastSeq) {
        for (let i = cursor + 1 - first.seq; i < this.recent.length; i++) this.ship(peer, this.recent[i]!);
        this.resends.delete(peer);
        return;
      }
      await this.store.waitDurable(Math.min(lastSeq, cursor + RESEND_PAGE_RECORDS));
      const page = await this.store.readLogAfter(cursor, RESEND_PAGE_RECORDS);
      if (!this.current(peer, generation)) return;
      if (page === null || page.records.length === 0 || page.records[0]!.seq !== cursor + 1) {
        this.log.warn('the log no longer reaches back to what a peer lacks; it needs a snapshot', { peer, afterSeq: cursor });
        this.resends.delete(peer);
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
    this.peers.send(peer, { kind: 'replicate', view: this.now().view, entry: { seq: record.seq, view: record.view, record } });
  }
}
