/**
 * Background work on tablets, one job at a time so that no two can disagree about what is on
 * disk: deciding to split a tablet past its split size (on the node that decides splits), naming
 * split halves in the manifest, the checkpoint round after enough log, and evicting least-
 * recently-used tablets past the memory budget. A failed write here leaves the node unable to
 * honour its log retention, so it is fatal.
 *
 * A split itself happens in memory, in log order (store-splits.ts), on every copy of the
 * group, possibly while a job here works on the tablet that splits. Jobs are safe against that:
 * a checkpoint encodes its tablet before its first await (the file it writes then holds the
 * whole tablet from before the split, which recovery splits again from the log), and an
 * eviction lets go of a slot that a split replaced meanwhile.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeCheckpointParts } from './checkpoint-codec.js';
import { fsyncDirectory, writeFileDurable } from './durable-files.js';
import type { KvStore } from './kv-store.js';
import { countLoggedBytes } from './logged-value.js';
import { checkpointFileName, writeManifest, type Manifest } from './manifest.js';
import { chooseSplitRow } from './split-point.js';
import type { Tablet } from './tablet.js';
import type { TabletSlot } from './tablet-slots.js';

/**
 * A checkpoint round writes at most this many bytes per byte of log it can drop (see
 * checkpointDue). 1 would write less in all, but a store filled by inserts would then put off
 * every round until eviction, and pay for all of it at once, in the middle of later reads.
 */
export const CHECKPOINT_WRITE_PER_LOG_MAX = 2;
/** A deferred checkpoint round sums the dirty bytes again at least every threshold / this of log growth. */
const DIRTY_CHECKS_PER_THRESHOLD = 8;

/** Evictions in one maintenance pass before other work gets a turn. */
const EVICTIONS_PER_PASS_MAX = 64;

/**
 * The log kept only for the values it holds (logged-value.ts) may grow to this many times the
 * bytes of those values still in use (and past the checkpoint threshold) before the oldest
 * such values are read back into their tablets, so that their segments can go.
 */
export const LOG_VALUE_SPACE_FACTOR_MAX = 2;
/** Bytes of values read back from the log in one checkpoint round at most. */
export const LOG_VALUE_RECLAIM_BYTES_MAX = 64 * 1024 * 1024;

export class TabletMaintenance {
  /** The last job queued; jobs run one after another. */
  private tail: Promise<void> = Promise.resolve();
  /** A pass is queued or running, and will look at `wanted` before it ends. */
  private passQueued = false;
  private wanted = false;
  /**
   * After a checkpoint round that dropped no segment (a pin, or a dirty tablet, holds the log):
   * the pin it met and the log's size then. The next round waits until the pin moves or the log
   * grew by another checkpoint threshold, so that every write does not start a round in vain.
   */
  private futileRound: { pinSeq: number; logBytes: number } | null = null;
  /**
   * Tablets replaced by splits: their checkpoints go once a manifest no longer names them. Per
   * id, the log segments that checkpoint keeps values in, kept until then.
   */
  private readonly retired = new Map<number, ReadonlyMap<number, number>>();
  /** A split happened since the manifest was last written. */
  private namingWanted = false;
  /** The log size before which the dirty bytes are not summed again (see checkpointDue). */
  private nextDirtyCheckLogBytes = 0;

  constructor(private readonly store: KvStore) {}

  /** After a write: schedule work if the tablet, the log or memory crossed a limit. */
  afterWrite(slot: TabletSlot): void {
    const o = this.store.options;
    if (slot.bytes > o.tabletSplitBytes || this.store.memoryBytes > o.memoryBudgetBytes || this.checkpointDue()) {
      this.schedule();
    }
  }

  /**
   * The log is past the checkpoint threshold, a round may drop some of it, and what the round
   * would write is at most twice the log it would drop (CHECKPOINT_WRITE_PER_LOG_MAX). A round
   * rewrites every tablet written since its checkpoint (loaded and dirty) whole, so without the
   * last rule a store whose writes touch every tablet (file chunks spread by hash) would rewrite
   * all its resident data every threshold of log: a cost that grows with the data held. With
   * it, checkpoint writes stay within twice the log written, and the retained log within the
   * larger of the threshold and half the dirty bytes in memory (bounded by the memory hard
   * limit, since eviction checkpoints what it drops).
   */
  private checkpointDue(): boolean {
    const wal = this.store.wal;
    const threshold = this.store.options.checkpointLogBytes;
    if (wal === null) return false;
    const logBytes = wal.retainedBytes;
    if (logBytes < threshold || logBytes < this.nextDirtyCheckLogBytes) return false;
    const futile = this.futileRound;
    if (futile !== null && this.store.logPinSeq === futile.pinSeq && logBytes < futile.logBytes + threshold) return false;
    const dirty = this.dirtyLoadedBytes();
    if (logBytes * CHECKPOINT_WRITE_PER_LOG_MAX >= dirty) return true;
    // Look again once the log has caught up with what is dirty now (or grown a step).
    this.nextDirtyCheckLogBytes = Math.max(dirty / CHECKPOINT_WRITE_PER_LOG_MAX, logBytes + threshold / DIRTY_CHECKS_PER_THRESHOLD);
    return false;
  }

  /** Bytes a checkpoint round would write now: every loaded tablet written since its checkpoint. */
  private dirtyLoadedBytes(): number {
    let bytes = 0;
    for (const slot of this.store.slots.all()) if (slot.tablet !== null && slot.dirtySinceSeq !== null) bytes += slot.residentBytes;
    return bytes;
  }

  /** Asks for a maintenance pass (splits, checkpoint round, eviction) as soon as possible. */
  schedule(): void {
    this.wanted = true;
    if (this.passQueued) return;
    this.passQueued = true;
    this.tail = this.tail.then(async () => {
      while (this.wanted) {
        this.wanted = false;
        await this.pass();
      }
      this.passQueued = false; // same synchronous step as the last check of `wanted`
    }).catch((err: unknown) => {
      this.store.log.error('tablet maintenance failed', { err });
      this.store.options.onFatal(err as Error);
    });
  }

  /**
   * Runs `job` alone: after the queued maintenance, before any later one (for changes of the
   * tablet set such as installing or removing a tablet). Its failure goes to the caller.
   */
  exclusive<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }

  /** Resolves when no maintenance is queued or running, or after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const tail = this.tail;
      const left = deadline - Date.now();
      if (left <= 0) return;
      if (!Number.isFinite(left)) {
        await tail;
      } else {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([tail, new Promise((r) => { timer = setTimeout(r, left); })]);
        clearTimeout(timer);
      }
      if (tail === this.tail) return;
    }
  }

  /** A split replaced `old` by two halves the manifest does not name yet. */
  splitApplied(old: TabletSlot): void {
    this.retired.set(old.id, old.checkpointLogged);
    this.namingWanted = true;
    this.schedule();
  }

  /** Tablet ownership changed wholesale (a snapshot install): no retired checkpoint is left to delete. */
  forgetRetired(): void {
    this.retired.clear();
  }

  private async pass(): Promise<void> {
    const o = this.store.options;
    if (this.store.splits.decides()) {
      for (const slot of this.store.slots.all()) {
        if (slot.tablet !== null && !slot.busy && slot.bytes > o.tabletSplitBytes
          && slot.tablet.rowCount !== slot.unsplittableRows) {
          this.decideSplit(slot, slot.tablet);
          this.wanted = true; // the slot list changed; look again
          break;
        }
      }
    }
    // Split halves are named by the next checkpoint round (they are dirty: it writes them once),
    // not here: written here too, every split would cost a second write of its tablet.
    if (this.checkpointDue()) await this.checkpointRound();
    for (let i = 0; i < EVICTIONS_PER_PASS_MAX && this.store.memoryBytes > o.memoryBudgetBytes; i++) {
      const victim = this.pickVictim();
      if (victim === undefined) return;
      await this.evict(victim);
      this.nextDirtyCheckLogBytes = 0; // what is dirty shrank: a round may be due sooner
    }
    if (this.store.memoryBytes > o.memoryBudgetBytes && this.pickVictim() !== undefined) this.wanted = true;
  }

  /** The least recently used loaded tablet, never the most recent one (it is being served). */
  private pickVictim(): TabletSlot | undefined {
    const loaded = this.store.slots.loadedByRecency();
    return loaded.slice(0, -1).find((s) => !s.busy && s.loading === null);
  }

  /** Writes a snapshot of a loaded tablet durably; afterwards the log before it is not needed. */
  private async checkpoint(slot: TabletSlot, tablet: Tablet): Promise<void> {
    // A tablet installed from a snapshot may reflect records the log has not reached yet: its
    // checkpoint keeps claiming them (replay and replication skip what a checkpoint holds).
    const seq = Math.max(this.store.lastSeq, slot.checkpointSeq);
    // Long values are referenced, not copied: the parts stay this snapshot while writes go on.
    const parts = encodeCheckpointParts(tablet, seq);
    const logged = new Map(tablet.loggedBytes);
    await this.store.waitDurable(this.store.lastSeq);
    await writeFileDurable(join(this.store.options.dir, checkpointFileName(slot.id)), parts);
    slot.checkpointLogged = logged;
    slot.checkpointFile = true;
    slot.checkpointSeq = seq;
    slot.dirtySinceSeq = slot.lastWriteSeq > seq ? seq + 1 : null;
    this.store.lastCheckpoint = { seq, atMs: Date.now(), tabletStart: slot.start };
  }

  private async evict(slot: TabletSlot): Promise<void> {
    slot.busy = true;
    try {
      if (slot.dirtySinceSeq !== null && slot.tablet !== null) await this.checkpoint(slot, slot.tablet);
      // Written again while the checkpoint was being made: it stays; a later pass retries. Split
      // meanwhile: its halves hold the rows now, and stay.
      if (slot.dirtySinceSeq !== null || slot.tablet === null || !this.store.slots.holds(slot)) return;
      this.store.memoryBytes -= slot.tablet.residentBytes;
      slot.bytes = slot.tablet.bytes;
      slot.residentBytes = slot.tablet.residentBytes;
      slot.tablet = null;
      this.store.slots.unloaded(slot);
      this.store.log.debug('tablet evicted', { start: slot.start, bytes: slot.bytes });
    } finally {
      slot.busy = false;
    }
  }

  /**
   * Checkpoints every dirty tablet after a log roll, then drops the log they cover, except the
   * segments that values in use lie in (and, the log being contiguous, those after them).
   */
  private async checkpointRound(): Promise<void> {
    const wal = this.store.wal!;
    const rolledAt = await wal.roll();
    this.reclaimLoggedValues(Math.min(rolledAt, this.store.logPinSeq));
    for (const slot of this.store.slots.all()) {
      if (slot.dirtySinceSeq === null || slot.tablet === null) continue;
      slot.busy = true;
      try {
        await this.checkpoint(slot, slot.tablet);
      } finally {
        slot.busy = false;
      }
    }
    // Split halves were dirty, so they have their checkpoints now: the manifest names them, and
    // the log they kept for recovery to replay their split can go.
    if (this.namingWanted) await this.nameTablets();
    // A peer catching up after a snapshot still needs the log from its snapshot point.
    let neededSeq = Math.min(this.store.lastSeq + 1, this.store.logPinSeq);
    for (const slot of this.store.slots.all()) {
      if (slot.dirtySinceSeq !== null) neededSeq = Math.min(neededSeq, slot.dirtySinceSeq);
      if (slot.manifestPinSeq !== null) neededSeq = Math.min(neededSeq, slot.manifestPinSeq);
    }
    // Computed with no await before the drop: a value logged meanwhile lies in the last segment.
    for (const segment of this.loggedValueBytes().keys()) neededSeq = Math.min(neededSeq, segment);
    const dropped = await wal.dropSegmentsBefore(neededSeq);
    this.futileRound = dropped === 0 ? { pinSeq: this.store.logPinSeq, logBytes: wal.retainedBytes } : null;
    this.nextDirtyCheckLogBytes = 0;
    this.store.log.info('checkpoint round', { rolledAt, neededSeq, droppedSegments: dropped, logBytes: wal.retainedBytes });
  }

  /**
   * Per log segment, bytes of the values in use that lie there: in loaded tablets, in the
   * checkpoint files of every tablet held, and in those of tablets split since the manifest
   * was written (recovery would start from them). Every such segment must stay.
   */
  private loggedValueBytes(): Map<number, number> {
    const bytes = new Map<number, number>();
    const add = (m: ReadonlyMap<number, number>): void => {
      for (const [segment, n] of m) countLoggedBytes(bytes, segment, n);
    };
    for (const slot of this.store.slots.all()) {
      add(slot.checkpointLogged);
      if (slot.tablet !== null) add(slot.tablet.loggedBytes);
    }
    for (const m of this.retired.values()) add(m);
    return bytes;
  }

  /**
   * When the log kept only for its values outgrows them (LOG_VALUE_SPACE_FACTOR_MAX, past the
   * checkpoint threshold), reads the values of its oldest segments back into their tablets,
   * up to LOG_VALUE_RECLAIM_BYTES_MAX: the round's checkpoints then hold them, and the segments
   * can go. A tablet evicted meanwhile is loaded for a later round.
   */
  private reclaimLoggedValues(replayFromSeq: number): void {
    const wal = this.store.wal!;
    const inUse = this.loggedValueBytes();
    if (inUse.size === 0) return;
    const segments = wal.segments;
    let reclaimed = 0;
    for (;;) {
      // The segments kept only for values: from the oldest one a value lies in, up to the
      // first one recovery would replay.
      const oldest = Math.min(...inUse.keys());
      let heldBytes = 0;
      let liveBytes = 0;
      for (let i = 0; i + 1 < segments.length; i++) {
        const s = segments[i]!;
        if (s.firstSeq < oldest || segments[i + 1]!.firstSeq > replayFromSeq) continue;
        heldBytes += s.bytes;
        liveBytes += inUse.get(s.firstSeq) ?? 0;
      }
      if (heldBytes <= this.store.options.checkpointLogBytes || heldBytes <= LOG_VALUE_SPACE_FACTOR_MAX * liveBytes) return;
      if (reclaimed >= LOG_VALUE_RECLAIM_BYTES_MAX) return;
      reclaimed += this.reclaimSegment(oldest);
      inUse.delete(oldest);
      if (inUse.size === 0) return;
    }
  }

  /** Reads the values lying in `segment` back into loaded tablets; returns their bytes. */
  private reclaimSegment(segment: number): number {
    let bytes = 0;
    for (const slot of this.store.slots.all()) {
      const tablet = slot.tablet;
      if (tablet === null) {
        if (slot.checkpointLogged.has(segment)) {
          this.store.ensureLoaded(slot).catch((err: unknown) => this.store.log.warn('cannot load a tablet to reclaim its logged values', { start: slot.start, err }));
        }
        continue;
      }
      if (!tablet.loggedBytes.has(segment) && !slot.checkpointLogged.has(segment)) continue;
      const before = tablet.residentBytes;
      bytes += tablet.readBackLogged(segment, (v, row, column) => this.store.valueBytes(v, row, column));
      this.store.memoryBytes += tablet.residentBytes - before;
      slot.residentBytes = tablet.residentBytes;
      // Its checkpoint still points into the segment: the round writes it again.
      if (slot.dirtySinceSeq === null) slot.dirtySinceSeq = this.store.lastSeq + 1;
    }
    this.store.log.info('values read back from an old log segment', { segment, bytes });
    return bytes;
  }

  /** Splits a tablet where half its bytes lie (a SPLIT record: every copy splits alike). */
  private decideSplit(slot: TabletSlot, tablet: Tablet): void {
    const splitRow = chooseSplitRow(tablet.rowWeights());
    if (splitRow === null) {
      slot.unsplittableRows = tablet.rowCount;
      return;
    }
    this.store.splits.sequence(slot, splitRow);
  }

  /**
   * Writes a manifest that names every tablet held now, after giving each tablet it did not
   * name (split halves) a checkpoint; then deletes the checkpoints of the tablets it no longer
   * names. Until that manifest is durable, recovery starts from the previous one and replays
   * the splits from the log, which the halves keep (manifestPinSeq). Runs as a maintenance job
   * (or inside one), never beside another manifest write.
   */
  async nameTablets(): Promise<void> {
    this.namingWanted = false;
    for (;;) {
      const missing = this.store.slots.all().find((s) => !s.checkpointFile);
      if (missing === undefined) break;
      // A half is written before it can be evicted (evict checkpoints a dirty tablet first).
      if (missing.tablet === null) throw new Error(`tablet ${missing.id} has neither a checkpoint nor its rows in memory`);
      missing.busy = true;
      try {
        await this.checkpoint(missing, missing.tablet);
      } finally {
        missing.busy = false;
      }
    }
    // Every tablet held has a checkpoint file at this instant; a split during the write below
    // makes halves this manifest does not name, which keep their pins for the next one.
    const named = [...this.store.slots.all()];
    const retired = [...this.retired.keys()];
    const dir = this.store.options.dir;
    await writeManifest(dir, this.manifestOf(named));
    for (const slot of named) slot.manifestPinSeq = null;
    for (const id of retired) {
      this.retired.delete(id);
      // A half split again before its first checkpoint never had a file.
      await unlink(join(dir, checkpointFileName(id))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    if (retired.length > 0) await fsyncDirectory(dir);
  }

  private manifestOf(slots: readonly TabletSlot[]): Manifest {
    const manifest: Manifest = {
      nodeId: this.store.options.nodeId,
      nextTabletId: this.store.nextTabletId,
      tablets: slots.map((s) => ({ id: s.id, start: s.start, end: s.end })),
    };
    if (this.store.snapshotPoint !== null) manifest.snapshot = this.store.snapshotPoint;
    return manifest;
  }
}
