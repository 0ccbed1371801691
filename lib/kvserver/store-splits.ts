/**
 * Splits of a store's tablets as records of its log, so that every copy of a group splits at
 * the same row and the same point of the log (docs/kv-storage.md, "Splits"). The node that
 * sequences writes decides a split (maintenance asks it, `sequence`); the others apply the
 * SPLIT records they receive (`applyReplicated`) or replay (`replay`), never deciding one.
 *
 * Applying a split happens in memory, synchronously: two tablets with new ids where there was
 * one. Maintenance names the halves in the manifest later (TabletMaintenance.nameTablets);
 * until then recovery starts from the split tablet's checkpoint and replays the split, so the
 * halves keep the log from there (manifestPinSeq).
 */
import assert from 'node:assert/strict';
import type { KvStore } from './kv-store.js';
import type { Tablet } from './tablet.js';
import type { TabletSlot } from './tablet-slots.js';
import type { WalRecord } from './wal-record.js';
import type { EncodedLogRecord } from '../protocol/kv-log-record.js';

/** The origin of records no client sent: never remembered, never matched. */
const NO_CLIENT = '0000000000000000';

export class StoreSplits {
  /** Told the row of every split this node decided, once it is committed. */
  private committedListener: ((row: string) => void) | null = null;

  constructor(private readonly store: KvStore) {}

  /** Calls `listener` with the row of every split this node decides, once it is committed. */
  onCommitted(listener: (row: string) => void): void {
    this.committedListener = listener;
  }

  /**
   * Whether this node decides splits now: the primary (or a node that does not replicate),
   * past recovery and not closing.
   */
  decides(): boolean {
    const { store } = this;
    return store.wal !== null && !store.isClosed && (store.replication === null || store.replication.canSequence());
  }

  /**
   * Splits the loaded tablet of `slot` so that `row` starts a tablet of its own, as this node's
   * decision: a SPLIT record is logged, applied and replicated like a write. Synchronous; false
   * when this node does not decide splits now.
   */
  sequence(slot: TabletSlot, row: string): boolean {
    const { store } = this;
    if (!this.decides() || slot.tablet === null || !store.slots.holds(slot)) return false;
    const record: WalRecord = {
      seq: store.lastSeq + 1, view: store.replication?.view ?? 0, op: 'SPLIT', row, column: '', clientId: NO_CLIENT, requestId: 0,
    };
    const encoded = store.wal!.append(record);
    this.apply(slot, slot.tablet, record);
    store.replication?.sequenced(record, encoded);
    store.waitCommitted(record.seq).then(() => this.committedListener?.(row), () => undefined);
    return true;
  }

  /** A secondary's side (see KvStore.applyReplicated): logs and applies a SPLIT record. */
  applyReplicated({ record, encoded }: EncodedLogRecord): boolean | Promise<boolean> {
    const { store } = this;
    const held = store.slots.forRow(record.row);
    if (held === undefined) return false;
    // Its tablets came in a snapshot taken after the split.
    if (held.start === record.row) return store.logReflected(record, held, encoded);
    return store.applyOnTablet(record.row, (slot, tablet) => {
      store.wal!.append(record, encoded);
      this.apply(slot, tablet, record);
    });
  }

  /** Replays a SPLIT record at start-up whose halves the manifest does not name. */
  async replay(record: WalRecord): Promise<void> {
    const applied = await this.store.withTablet(record.row, ({ slot, tablet }) => {
      this.apply(slot, tablet, record);
      return true as const;
    });
    if (applied !== true) throw new Error(`replay of split ${record.seq} failed: ${'message' in applied ? applied.message : applied.status}`);
  }

  /** Applies a SPLIT record to the loaded tablet it falls in: the rows from `record.row` on form a new tablet. */
  private apply(slot: TabletSlot, tablet: Tablet, record: WalRecord): void {
    const { store } = this;
    assert.ok(record.row > slot.start && (slot.end === null || record.row < slot.end),
      `split row ${JSON.stringify(record.row)} is not inside the tablet starting at ${JSON.stringify(slot.start)}`);
    store.lastSeq = record.seq;
    store.lastSeqView = record.view;
    const totalBytes = tablet.bytes;
    const right = tablet.splitAt(record.row);
    const pin = slot.manifestPinSeq ?? slot.checkpointSeq + 1;
    const halves = [tablet, right].map((t): TabletSlot => ({
      id: store.nextTabletId++,
      start: t.start,
      end: t.end,
      tablet: t,
      bytes: t.bytes,
      residentBytes: t.residentBytes,
      // No file yet: the parent's, which keeps its log segments until the manifest drops it.
      checkpointLogged: new Map(),
      checkpointSeq: slot.checkpointSeq,
      lastWriteSeq: slot.lastWriteSeq,
      dirtySinceSeq: slot.dirtySinceSeq ?? slot.checkpointSeq + 1,
      loading: null,
      busy: false,
      unsplittableRows: -1,
      checkpointFile: false,
      manifestPinSeq: pin,
    }));
    store.slots.replace(slot, halves);
    store.maintenance.splitApplied(slot);
    store.log.info('tablet split', {
      seq: record.seq, start: slot.start, at: record.row, bytes: totalBytes, leftBytes: halves[0]!.bytes, rightBytes: halves[1]!.bytes,
    });
  }
}
