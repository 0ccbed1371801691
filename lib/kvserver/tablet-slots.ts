/**
 * The tablets a node holds, loaded or not: ordered by start key for routing, and in least-
 * recently-used order for eviction. A slot outlives the eviction of its tablet; its bytes and
 * checkpoint sequence stay known while only the checkpoint file holds the data.
 */
import assert from 'node:assert/strict';
import type { Tablet, TabletRange } from './tablet.js';

export interface TabletSlot extends TabletRange {
  id: number;
  /** The rows in memory, or null while evicted (then the checkpoint file holds them). */
  tablet: Tablet | null;
  /** Accounted bytes (live while loaded, as of the checkpoint while evicted). */
  bytes: number;
  /** Bytes the tablet holds in memory (live while loaded, as of the checkpoint while evicted). */
  residentBytes: number;
  /**
   * Per log segment, bytes of the values the checkpoint file keeps there (logged-value.ts):
   * the log keeps those segments while the file exists. Empty with no file.
   */
  checkpointLogged: ReadonlyMap<number, number>;
  /** Every write to this tablet up to this seq is in its checkpoint file. */
  checkpointSeq: number;
  /** Seq of the latest write applied to this tablet (0: none since start-up). */
  lastWriteSeq: number;
  /** A seq at or before the first write missing from the checkpoint; null when clean. */
  dirtySinceSeq: number | null;
  loading: Promise<void> | null;
  /** Maintenance (checkpoint, eviction, split) is working on this slot. */
  busy: boolean;
  /** Row count at which a split found no boundary; retried once the count changes. */
  unsplittableRows: number;
  /** Whether `tablet-<id>.ckpt` exists (a split half has none until its first checkpoint). */
  checkpointFile: boolean;
  /**
   * Set while the manifest does not name this tablet yet (a split half): recovery would start
   * from the tablet the manifest still names and replay the split from the log, so the log is
   * kept from this seq on. Null once a manifest names it.
   */
  manifestPinSeq: number | null;
}

export class TabletSlots {
  /** Ordered by start. */
  private slots: TabletSlot[] = [];
  /** Loaded slots, least recently used first. */
  private readonly recency = new Map<number, TabletSlot>();
  /** The slot touched last (touching it again changes nothing). */
  private mostRecent: TabletSlot | null = null;

  all(): readonly TabletSlot[] {
    return this.slots;
  }

  /** Replaces the whole set (start-up); `slots` must be ordered and non-overlapping. */
  reset(slots: TabletSlot[]): void {
    for (let i = 1; i < slots.length; i++) assert.ok(slots[i - 1]!.start < slots[i]!.start, 'slots out of order');
    this.slots = slots;
    this.recency.clear();
    this.mostRecent = null;
    for (const s of slots) if (s.tablet !== null) this.recency.set(s.id, s);
  }

  /** The slot whose range holds `row`, or undefined when this node does not serve it. */
  forRow(row: string): TabletSlot | undefined {
    let lo = 0;
    let hi = this.slots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.slots[mid]!;
      if (row < s.start) hi = mid - 1;
      else if (s.end !== null && row >= s.end) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  forStart(start: string): TabletSlot | undefined {
    const s = this.forRow(start);
    return s !== undefined && s.start === start ? s : undefined;
  }

  /** Whether `slot` is one of the slots held now (a split replaces a slot by two new ones). */
  holds(slot: TabletSlot): boolean {
    return this.forStart(slot.start) === slot;
  }

  /** Replaces `old` by `parts` (its split halves) in place. */
  replace(old: TabletSlot, parts: TabletSlot[]): void {
    const i = this.slots.indexOf(old);
    assert.ok(i >= 0, 'replacing a slot that is not held');
    this.slots.splice(i, 1, ...parts);
    this.recency.delete(old.id);
    this.mostRecent = null;
    for (const p of parts) if (p.tablet !== null) this.recency.set(p.id, p);
  }

  /** Adds a slot whose range overlaps none held (throws otherwise). */
  insert(slot: TabletSlot): void {
    const overlapping = this.slots.find((s) => (s.end === null || slot.start < s.end) && (slot.end === null || s.start < slot.end));
    if (overlapping !== undefined) {
      throw new Error(`tablet [${JSON.stringify(slot.start)}, ${JSON.stringify(slot.end)}) overlaps the one starting at ${JSON.stringify(overlapping.start)}`);
    }
    this.slots.push(slot);
    this.slots.sort((a, b) => (a.start < b.start ? -1 : 1));
    if (slot.tablet !== null) this.recency.set(slot.id, slot);
    this.mostRecent = null;
  }

  remove(slot: TabletSlot): void {
    this.slots = this.slots.filter((s) => s !== slot);
    this.recency.delete(slot.id);
    if (this.mostRecent === slot) this.mostRecent = null;
  }

  /** Marks a loaded slot most recently used. */
  touch(slot: TabletSlot): void {
    if (slot === this.mostRecent) return;
    this.mostRecent = slot;
    this.recency.delete(slot.id);
    if (slot.tablet !== null) this.recency.set(slot.id, slot);
  }

  /** Forgets a slot in the recency order (it was evicted). */
  unloaded(slot: TabletSlot): void {
    this.recency.delete(slot.id);
    if (this.mostRecent === slot) this.mostRecent = null;
  }

  /** Loaded slots, least recently used first. */
  loadedByRecency(): TabletSlot[] {
    return [...this.recency.values()];
  }
}
