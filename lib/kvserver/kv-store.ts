/**
 * The storage engine of one node: executes requests against its tablets, logs every write
 * and acknowledges it only once it is committed, loads evicted tablets on access. Splits are
 * records of the log (store-splits.ts); checkpoints, eviction and the decision to split run in
 * TabletMaintenance; start-up in openKvStore (recovery.ts).
 *
 * Visibility: a write is applied in memory when it is sequenced, before it is committed, so
 * that a later CPUT on the same cell decides against it. A read that sees a cell whose write is
 * not yet committed waits for the commit before it answers, so no reply ever reveals a write
 * that a crash or a failover could still undo. "Committed" is what the replication layer says
 * (`replication.waitCommitted`): durable here and acknowledged by every secondary of the view;
 * without replication it is the local fsync.
 */
import assert from 'node:assert/strict';
import type { Logger } from '../protocol/log.js';
import {
  KV_KEY_BYTES_MAX, KV_LIST_PAGE_MAX, checkKey,
  type KvNodeStatus, type KvOrigin, type KvReplyBody, type KvRequestBody,
} from '../protocol/kv-wire.js';
import { encodeCheckpoint } from './checkpoint-codec.js';
import { applyRecord, decideWrite, type KvWrite } from './kv-state-machine.js';
import { CELL_OVERHEAD_BYTES, ROW_OVERHEAD_BYTES } from './memory-accounting.js';
import type { ManifestSnapshot } from './manifest.js';
import { loadSlotTablet } from './slot-loader.js';
import type { Tablet } from './tablet.js';
import { TabletMaintenance } from './tablet-maintenance.js';
import { StoreSplits } from './store-splits.js';
import { RecentOrigins } from './recent-origins.js';
import { NotCommittedError, type StoreReplication } from './store-replication.js';
import { TabletSlots, type TabletSlot } from './tablet-slots.js';
import { readLogAfter, type WalPlace } from './wal-reader.js';
import type { WalRecord } from './wal-record.js';
import type { EncodedLogRecord } from '../protocol/kv-log-record.js';
import type { WalWriter } from './wal-writer.js';
import { ownedValue } from './owned-value.js';
import { LOG_VALUE_BYTES_MIN, LoggedValue, ValueLog, type StoredValue } from './logged-value.js';

export interface KvStoreOptions {
  nodeId: number;
  /** The node's own data directory (`<dataDir>/kv-<id>`). */
  dir: string;
  valueBytesMax: number;
  memoryBudgetBytes: number;
  tabletSplitBytes: number;
  checkpointLogBytes: number;
  /** Values at least this long are read from the log once logged (default LOG_VALUE_BYTES_MIN). */
  logValueBytesMin?: number;
  log: Logger;
  /** Called once on an I/O failure that leaves memory and disk in doubt; must stop the node. */
  onFatal: (err: Error) => void;
}

/** Attempts to find a loaded tablet for a row before giving up (loads race with eviction). */
const LOAD_ATTEMPTS_MAX = 8;

/** How long a write waits for eviction to bring memory back under the hard limit. */
const MEMORY_WAIT_MS = 10_000;

type Located = { slot: TabletSlot; tablet: Tablet };

function cellKey(row: string, column: string): string {
  return `${row.length}:${row}${column}`;
}

export class KvStore {
  readonly slots = new TabletSlots();
  readonly maintenance: TabletMaintenance;
  private walWriter: WalWriter | null = null;
  private inlineLogWrites = false;
  /** Reads values kept in the log (logged-value.ts). */
  readonly values: ValueLog;
  /** Values at least this long are kept in the log, not in memory, once durable. */
  readonly logValueBytesMin: number;
  lastSeq = 0;
  /** The view that wrote the record at lastSeq (0 before replication or for an empty log). */
  lastSeqView = 0;
  memoryBytes = 0;
  nextTabletId = 1;
  lastCheckpoint: KvNodeStatus['lastCheckpoint'] = null;
  /** Cells whose latest write is not yet committed, with that write's seq. */
  private readonly pendingSeqByCell = new Map<string, number>();
  /** Recent writes by origin, so a retried request is applied at most once. */
  origins = new RecentOrigins();
  /** Where a snapshot last replaced this node's data (kept in the manifest), or null. */
  snapshotPoint: ManifestSnapshot | null = null;
  /** Per owner (a peer catching up): the first seq the log must keep for it. */
  private readonly logPins = new Map<number, number>();
  /** Set by the node once replication is wired; null: a write commits when it is durable. */
  replication: StoreReplication | null = null;
  /** Hears of every batch of log records made durable (see onDurable). */
  private durableListener: ((durableSeq: number) => void) | null = null;
  /** The previous tablet load: the next one starts after it. */
  private loadGate: Promise<void> = Promise.resolve();
  private closed = false;
  /** Splits: decided here (a primary) or applied from the log (store-splits.ts). */
  readonly splits = new StoreSplits(this);

  constructor(readonly options: KvStoreOptions) {
    this.maintenance = new TabletMaintenance(this);
    this.values = new ValueLog(options.dir, walPayloadBytesMax(options.valueBytesMax));
    this.logValueBytesMin = Math.max(1, options.logValueBytesMin ?? LOG_VALUE_BYTES_MIN);
  }

  get wal(): WalWriter | null {
    return this.walWriter;
  }

  /**
   * Whether small log writes are made on this thread (WalWriter.smallWritesInline): set by
   * replication while this node is not the primary; kept across a log replaced by a snapshot.
   */
  set logWritesInline(inline: boolean) {
    this.inlineLogWrites = inline;
    if (this.walWriter !== null) this.walWriter.smallWritesInline = inline;
  }

  /** The log appended to from now on (after recovery, or a snapshot install). */
  set wal(wal: WalWriter | null) {
    this.walWriter = wal;
    if (wal === null) return;
    wal.durableListener = this.durableListener;
    wal.smallWritesInline = this.inlineLogWrites;
    wal.droppedListener = (segment) => this.values.forget(segment);
    wal.valueListener = { bytesMin: this.logValueBytesMin, logged: (record, place) => this.valueLogged(record, place) };
  }

  /** The bytes of a stored value (read from the log when kept there). */
  valueBytes(value: StoredValue, row: string, column: string): Buffer {
    return this.values.read(value, row, column);
  }

  /**
   * A long value's record is durable: its cell, if it still holds that very value, keeps only
   * where it lies in the log from now on.
   */
  private valueLogged(record: WalRecord, place: WalPlace): void {
    if (record.op !== 'PUT') return;
    const slot = this.slots.forRow(record.row);
    const tablet = slot?.tablet;
    if (slot === undefined || tablet === null || tablet === undefined) return;
    const before = tablet.residentBytes;
    const logged = new LoggedValue(place.segment, place.position, place.recordBytes, record.seq, record.value.length);
    if (!tablet.replaceByLogged(record.row, record.column, record.value, logged)) return;
    this.memoryBytes += tablet.residentBytes - before;
    slot.residentBytes = tablet.residentBytes;
  }

  get log(): Logger {
    return this.options.log;
  }

  /** Set once close() began: no new request or decision is taken. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Past this, writes wait for eviction: the budget plus one tablet about to split. */
  get memoryHardLimitBytes(): number {
    return this.options.memoryBudgetBytes + this.options.tabletSplitBytes + 2 * this.options.valueBytesMax;
  }

  /** Highest seq known durable (during recovery every replayed record already is). */
  get durableSeq(): number {
    return this.wal === null ? this.lastSeq : this.wal.durableSeq;
  }

  waitDurable(seq: number): Promise<void> {
    return this.wal === null ? Promise.resolve() : this.wal.waitDurable(seq);
  }

  /** Calls `listener` after every batch of log records is made durable, from now on. */
  onDurable(listener: (durableSeq: number) => void): void {
    this.durableListener = listener;
    if (this.wal !== null) this.wal.durableListener = listener;
  }

  /**
   * Keeps every log record from `seq` on (checkpoint rounds drop no segment holding one) until
   * `unpinLog(owner)`: a peer that got a snapshot as of `seq - 1` is to catch up from there.
   */
  pinLog(owner: number, seq: number): void {
    this.logPins.set(owner, seq);
  }

  unpinLog(owner: number): void {
    this.logPins.delete(owner);
  }

  /** The first seq some pin needs (Infinity with none). */
  get logPinSeq(): number {
    let seq = Number.POSITIVE_INFINITY;
    for (const s of this.logPins.values()) seq = Math.min(seq, s);
    return seq;
  }

  /** Resolves once `seq` is committed (see the file comment). */
  waitCommitted(seq: number): Promise<void> {
    return this.replication === null ? this.waitDurable(seq) : this.replication.waitCommitted(seq);
  }

  /** `reply` once `seq` is committed, or UNAVAILABLE when it cannot be seen committed here. */
  private afterCommit(seq: number, reply: KvReplyBody): Promise<KvReplyBody> {
    return this.waitCommitted(seq).then(() => reply, (err: unknown) => {
      if (err instanceof NotCommittedError) return { status: 'UNAVAILABLE', message: err.message };
      throw err;
    });
  }

  /** Executes one request; resolves with its reply (never rejects for a client mistake). */
  execute(body: KvRequestBody, origin: KvOrigin): KvReplyBody | Promise<KvReplyBody> {
    if (this.closed) return { status: 'UNAVAILABLE', message: 'node is shutting down' };
    const invalid = this.validate(body);
    if (invalid !== null) return invalid;
    switch (body.op) {
      case 'GET': return this.get(body.row, body.column);
      case 'PUT': case 'CPUT': case 'DELETE': return this.write(body, origin);
      case 'LIST_ROWS': return this.listRows(body.tabletStart, body.after, body.limit);
      case 'LIST_COLUMNS': return this.listColumns(body.row, body.after, body.limit);
      case 'STATUS': return { status: 'STATUS', node: this.status() };
    }
  }

  private validate(body: KvRequestBody): KvReplyBody | null {
    let problem: string | null = null;
    switch (body.op) {
      case 'GET': case 'DELETE':
        problem = checkKey(body.row, 'row') ?? checkKey(body.column, 'column');
        break;
      case 'PUT': case 'CPUT': {
        problem = checkKey(body.row, 'row') ?? checkKey(body.column, 'column');
        const max = this.options.valueBytesMax;
        const longest = Math.max(body.value.length, body.op === 'CPUT' && body.expected.kind === 'value' ? body.expected.value.length : 0);
        if (problem === null && longest > max) {
          return { status: 'TOO_LARGE', message: `value of ${longest} bytes exceeds the limit of ${max} bytes (kv.valueBytesMax)` };
        }
        break;
      }
      case 'LIST_ROWS': case 'LIST_COLUMNS':
        problem = body.op === 'LIST_ROWS' ? checkKey(body.tabletStart, 'row') : checkKey(body.row, 'row');
        if (problem === null && body.after !== null) problem = checkKey(body.after, body.op === 'LIST_ROWS' ? 'row' : 'column');
        if (problem === null && body.limit < 1) problem = 'page limit must be at least 1';
        break;
      case 'STATUS':
        break;
    }
    return problem === null ? null : { status: 'BAD_REQUEST', message: problem };
  }

  /**
   * Runs `fn` on the loaded tablet holding `row` (loading it first if evicted), or returns the
   * reply that ends the request. `fn` runs synchronously right after the tablet was found
   * loaded and current: with an await in between, a split or an eviction could detach it.
   */
  withTablet<T>(row: string, fn: (l: Located) => T): T | KvReplyBody | Promise<T | KvReplyBody> {
    const slot = this.slots.forRow(row);
    if (slot === undefined) return this.wrongTablet(row);
    if (slot.tablet !== null) {
      this.slots.touch(slot);
      return fn({ slot, tablet: slot.tablet });
    }
    return this.withTabletSlow(row, fn);
  }

  private async withTabletSlow<T>(row: string, fn: (l: Located) => T): Promise<T | KvReplyBody> {
    for (let attempt = 0; attempt < LOAD_ATTEMPTS_MAX; attempt++) {
      const slot = this.slots.forRow(row);
      if (slot === undefined) return this.wrongTablet(row);
      if (slot.tablet !== null) {
        this.slots.touch(slot);
        return fn({ slot, tablet: slot.tablet });
      }
      try {
        await this.ensureLoaded(slot);
      } catch (err) {
        this.log.error('cannot load tablet', { start: slot.start, err });
        return { status: 'INTERNAL', message: `cannot load tablet starting at ${JSON.stringify(slot.start)}: ${(err as Error).message}` };
      }
    }
    return { status: 'UNAVAILABLE', message: 'tablet was evicted repeatedly while loading; retry' };
  }

  /** A value kept in the log could not be read back: said so, never served wrong. */
  private unreadable(err: unknown): KvReplyBody {
    this.log.error('cannot read a value kept in the log', { err });
    return { status: 'INTERNAL', message: `cannot read the value from the log: ${(err as Error).message}` };
  }

  private wrongTablet(row: string): KvReplyBody {
    return { status: 'WRONG_TABLET', message: `node ${this.options.nodeId} does not serve row ${JSON.stringify(row.slice(0, 64))}` };
  }

  /**
   * Loads an evicted tablet from its checkpoint; concurrent callers share one load. Loads go
   * one at a time, each after eviction made room for it, so that requests scattered over many
   * evicted tablets cannot pull them all into memory at once.
   */
  ensureLoaded(slot: TabletSlot): Promise<void> {
    if (slot.tablet !== null) return Promise.resolve();
    if (slot.loading === null) {
      const loading = this.loadGate.then(async () => {
        if (slot.tablet !== null) return;
        if (this.memoryBytes + slot.residentBytes > this.options.memoryBudgetBytes) {
          this.maintenance.schedule();
          await this.maintenance.idle(MEMORY_WAIT_MS);
        }
        const tablet = await loadSlotTablet(this.options.dir, slot);
        slot.tablet = tablet;
        slot.bytes = tablet.bytes;
        slot.residentBytes = tablet.residentBytes;
        this.memoryBytes += tablet.residentBytes;
        this.slots.touch(slot);
        this.maintenance.schedule();
      }).finally(() => {
        slot.loading = null;
      });
      slot.loading = loading;
      this.loadGate = loading.catch(() => undefined);
    }
    return slot.loading;
  }

  /** The reply once the latest write to a cell is committed (at once if it is). */
  private afterCell(row: string, column: string, reply: KvReplyBody): KvReplyBody | Promise<KvReplyBody> {
    if (this.pendingSeqByCell.size === 0) return reply;
    const seq = this.pendingSeqByCell.get(cellKey(row, column));
    return seq === undefined ? reply : this.afterCommit(seq, reply);
  }

  private get(row: string, column: string): KvReplyBody | Promise<KvReplyBody> {
    const result = this.withTablet(row, ({ tablet }): KvReplyBody | Promise<KvReplyBody> => {
      const stored = tablet.get(row, column);
      let reply: KvReplyBody = { status: 'NOT_FOUND' };
      if (stored !== undefined) {
        try {
          reply = { status: 'VALUE', value: this.valueBytes(stored, row, column) };
        } catch (err) {
          return this.unreadable(err);
        }
      }
      return this.afterCell(row, column, reply);
    });
    return result as KvReplyBody | Promise<KvReplyBody>;
  }

  private write(write: KvWrite, origin: KvOrigin): KvReplyBody | Promise<KvReplyBody> {
    if (this.memoryBytes > this.memoryHardLimitBytes) return this.writeAfterEviction(write, origin);
    return this.withTablet(write.row, ({ slot, tablet }): KvReplyBody | Promise<KvReplyBody> => {
      // A retry of a write applied already (here, or by the primary before a failover): its
      // answer is OK once that write is committed; it is not applied twice. Asked here, once
      // the tablet is at hand, so that a retry that waited for the same tablet load as its
      // first attempt finds that one applied.
      const applied = this.origins.seqOf(origin);
      if (applied !== undefined) return this.afterCommit(applied, { status: 'OK' });
      // The role may have gone while the write waited for its tablet: nothing is logged then.
      if (this.replication !== null && !this.replication.canSequence()) {
        return { status: 'UNAVAILABLE', message: `node ${this.options.nodeId} is no longer the primary; retry` };
      }
      let decision;
      try {
        decision = decideWrite(tablet, write, this.lastSeq + 1, this.replication?.view ?? 0, origin, (v) => this.valueBytes(v, write.row, write.column));
      } catch (err) {
        return this.unreadable(err);
      }
      if (decision.kind === 'reply') return this.afterCell(write.row, write.column, decision.reply);
      const record = decision.record;
      const encoded = this.wal!.append(record);
      this.applyToSlot(slot, tablet, record);
      this.replication?.sequenced(record, encoded);
      const cell = cellKey(write.row, write.column);
      this.pendingSeqByCell.set(cell, record.seq);
      this.maintenance.afterWrite(slot);
      const settle = (): void => {
        if (this.pendingSeqByCell.get(cell) === record.seq) this.pendingSeqByCell.delete(cell);
        this.maintenance.afterWrite(slot); // the log grew on disk: a checkpoint may be due now
      };
      const reply = decision.reply;
      if (this.replication !== null) {
        return this.replication.whenCommitted(record.seq, () => {
          settle();
          return reply;
        }, (err): KvReplyBody => {
          settle();
          return { status: 'UNAVAILABLE', message: err.message };
        });
      }
      return this.afterCommit(record.seq, reply).then(
        (r) => {
          settle();
          return r;
        },
        (err: unknown) => {
          settle();
          throw err;
        },
      );
    }) as KvReplyBody | Promise<KvReplyBody>;
  }

  /** Memory is past the hard limit: wait for eviction (bounded) before writing. */
  private async writeAfterEviction(write: KvWrite, origin: KvOrigin): Promise<KvReplyBody> {
    await this.maintenance.idle(MEMORY_WAIT_MS);
    if (this.memoryBytes > this.memoryHardLimitBytes) {
      return { status: 'UNAVAILABLE', message: 'memory budget exhausted while tablets are checkpointed; retry' };
    }
    return this.write(write, origin);
  }

  /**
   * A secondary's side of replication: logs and applies a record the primary sequenced, whose
   * value the store may keep (`ownedValue`). Records must come in seq order, each after the
   * previous one was applied: at once (true) while its tablet is loaded and memory is under its
   * limit, else once the tablet is loaded (a promise). False when the row is not held here
   * (the group's tablets disagree).
   */
  applyReplicated(entry: EncodedLogRecord): boolean | Promise<boolean> {
    const { record } = entry;
    // The message is built only on failure: this runs for every replicated record.
    if (record.seq !== this.lastSeq + 1) assert.fail(`replicated seq ${record.seq} after ${this.lastSeq}`);
    if (this.memoryBytes > this.memoryHardLimitBytes) {
      return this.maintenance.idle(MEMORY_WAIT_MS).then(() => this.applyReplicatedNow(entry));
    }
    return this.applyReplicatedNow(entry);
  }

  private applyReplicatedNow(entry: EncodedLogRecord): boolean | Promise<boolean> {
    const { record, encoded } = entry;
    if (record.op === 'SPLIT') return this.splits.applyReplicated(entry);
    const held = this.slots.forRow(record.row);
    // Its tablet came in a snapshot that already reflects it: not applied again.
    if (held !== undefined && record.seq <= held.checkpointSeq) return this.logReflected(record, held, encoded);
    return this.applyOnTablet(record.row, (slot, tablet) => {
      this.wal!.append(record, encoded);
      this.applyToSlot(slot, tablet, record);
      this.maintenance.afterWrite(slot);
    });
  }

  /**
   * Logs a replicated record that `slot`'s tablet already reflects (it came in a snapshot taken
   * after it): the log stays whole, and a write's origin is remembered. True.
   */
  logReflected(record: WalRecord, slot: TabletSlot, encoded?: Buffer[]): true {
    this.wal!.append(record, encoded);
    this.lastSeq = record.seq;
    this.lastSeqView = record.view;
    this.origins.remember(record);
    this.maintenance.afterWrite(slot); // the log grew: a checkpoint round may be due
    return true;
  }

  /**
   * Runs `fn` on the loaded tablet holding `row` (see withTablet): true once it ran, at once or
   * after a load; false when this node cannot (it does not hold the row, or the load failed).
   */
  applyOnTablet(row: string, fn: (slot: TabletSlot, tablet: Tablet) => void): boolean | Promise<boolean> {
    const applied = this.withTablet(row, ({ slot, tablet }) => {
      fn(slot, tablet);
      return true as const;
    });
    if (applied instanceof Promise) return applied.then((a) => a === true);
    return applied === true;
  }

  /** The view that wrote the record at `seq`, if the retained log still holds it. */
  async viewAt(seq: number): Promise<number | null> {
    if (seq === 0) return 0;
    const page = await this.readLogAfter(seq - 1, 1);
    const record = page?.records[0];
    return record !== undefined && record.seq === seq ? record.view : null;
  }

  /** Applies a record; a PUT stores `logged` (its value kept in the log) when given. */
  private applyToSlot(slot: TabletSlot, tablet: Tablet, record: WalRecord, logged?: LoggedValue): void {
    this.lastSeq = record.seq;
    this.lastSeqView = record.view;
    this.origins.remember(record);
    const before = tablet.residentBytes;
    if (logged !== undefined && record.op === 'PUT') tablet.put(record.row, record.column, logged);
    else applyRecord(tablet, record);
    this.memoryBytes += tablet.residentBytes - before;
    slot.bytes = tablet.bytes;
    slot.residentBytes = tablet.residentBytes;
    slot.lastWriteSeq = record.seq;
    if (slot.dirtySinceSeq === null) slot.dirtySinceSeq = record.seq;
  }

  /**
   * Re-applies a logged record at start-up (skipped when its tablet's checkpoint has it); a
   * long value is kept where it lies in the log (`place`).
   */
  async replayRecord(record: WalRecord, place: WalPlace): Promise<void> {
    this.lastSeq = Math.max(this.lastSeq, record.seq);
    this.lastSeqView = record.view;
    this.origins.remember(record);
    const slot = this.slots.forRow(record.row);
    if (slot === undefined) {
      this.log.warn('log record for a row this node no longer holds; skipped', { seq: record.seq });
      return;
    }
    if (record.op === 'SPLIT') {
      // A split the manifest already names (its halves were checkpointed) is not made again.
      if (slot.start !== record.row) await this.splits.replay(record);
      return;
    }
    if (record.seq <= slot.checkpointSeq) return;
    const applied = await this.withTablet(record.row, ({ slot, tablet }) => {
      if (record.op === 'PUT' && record.value.length >= this.logValueBytesMin) {
        this.applyToSlot(slot, tablet, record, new LoggedValue(place.segment, place.position, place.recordBytes, record.seq, record.value.length));
      } else {
        this.applyToSlot(slot, tablet, record.op === 'PUT' ? { ...record, value: ownedValue(record.value) } : record);
      }
      this.maintenance.afterWrite(slot);
      return true as const;
    });
    if (applied !== true) throw new Error(`replay of seq ${record.seq} failed: ${'message' in applied ? applied.message : applied.status}`);
    if (this.memoryBytes > this.options.memoryBudgetBytes) await this.maintenance.idle(Number.POSITIVE_INFINITY);
  }

  private async listRows(tabletStart: string, after: string | null, limit: number): Promise<KvReplyBody> {
    const slot = this.slots.forStart(tabletStart);
    if (slot === undefined) {
      return { status: 'WRONG_TABLET', message: `node ${this.options.nodeId} holds no tablet starting at ${JSON.stringify(tabletStart)}` };
    }
    const page = await this.withTablet(tabletStart, ({ slot: current, tablet }): KvReplyBody => {
      const { rows, more } = tablet.listRows(after, Math.min(limit, KV_LIST_PAGE_MAX));
      return { status: 'ROWS', rows, end: current.end, more };
    });
    return this.afterCommit(this.lastSeq, page);
  }

  private async listColumns(row: string, after: string | null, limit: number): Promise<KvReplyBody> {
    const page = await this.withTablet(row, ({ tablet }): KvReplyBody => {
      const { columns, more } = tablet.listColumns(row, after, Math.min(limit, KV_LIST_PAGE_MAX));
      return { status: 'COLUMNS', columns, more };
    });
    return this.afterCommit(this.lastSeq, page);
  }

  status(): KvNodeStatus {
    const segments = this.wal?.segments ?? [];
    return {
      nodeId: this.options.nodeId,
      tablets: this.slots.all().map((s) => ({
        start: s.start, end: s.end, loaded: s.tablet !== null, bytes: s.bytes, checkpointSeq: s.checkpointSeq,
      })),
      memoryBytes: this.memoryBytes,
      memoryBudgetBytes: this.options.memoryBudgetBytes,
      log: {
        bytes: this.wal?.retainedBytes ?? 0,
        segments: segments.length,
        firstSeq: segments[0]?.firstSeq ?? this.lastSeq + 1,
        lastSeq: this.lastSeq,
        durableSeq: this.durableSeq,
      },
      lastCheckpoint: this.lastCheckpoint,
      accounting: { cellOverheadBytes: CELL_OVERHEAD_BYTES, rowOverheadBytes: ROW_OVERHEAD_BYTES },
    };
  }

  /**
   * A full snapshot of the tablet starting at `start` (checkpoint format), the seq it reflects
   * and the tablet's end (a split may have moved it), for a peer; null if no tablet starts there.
   */
  async snapshotTablet(start: string): Promise<{ seq: number; end: string | null; bytes: Buffer } | null> {
    const slot = this.slots.forStart(start);
    if (slot === undefined) return null;
    const snapshot = await this.withTablet(start, ({ slot: current, tablet }) => {
      if (current.start !== start) return null;
      // A tablet installed from a snapshot may reflect records the log has not reached yet.
      const seq = Math.max(this.lastSeq, current.checkpointSeq);
      // The peer's log is its own: values kept in this log travel in the snapshot itself.
      return { seq, end: tablet.end, bytes: encodeCheckpoint(tablet, seq, (v, row, column) => this.valueBytes(v, row, column)) };
    });
    if (snapshot === null || !('seq' in snapshot)) return null;
    await this.waitDurable(Math.min(snapshot.seq, this.lastSeq));
    return snapshot;
  }

  /** Resolves once no tablet load is under way (the loads queued so far have settled). */
  loadsSettled(): Promise<void> {
    return this.loadGate;
  }

  /**
   * Takes on the data of an installed snapshot (snapshot-install.ts, which made it durable):
   * the tablets (evicted: they load from their new checkpoints), the log after the snapshot
   * point, and the origins table. Whatever this node held before is gone.
   */
  replaceAfterSnapshot(next: {
    slots: TabletSlot[]; wal: WalWriter; origins: RecentOrigins; point: ManifestSnapshot; nextTabletId: number;
  }): void {
    // Writes this node sequenced as a primary and never saw committed were failed when it lost
    // the role, and their waits once more before the install began (replica-node.ts); their
    // cells are gone with the old data.
    this.pendingSeqByCell.clear();
    this.slots.reset(next.slots);
    this.maintenance.forgetRetired();
    this.memoryBytes = 0;
    this.values.closeAll();
    this.wal = next.wal;
    this.origins = next.origins;
    this.snapshotPoint = next.point;
    this.nextTabletId = next.nextTabletId;
    this.lastSeq = next.point.seq;
    this.lastSeqView = next.point.view;
    this.lastCheckpoint = null;
  }

  /** Durable log records after `afterSeq`, or null when only a snapshot can catch a peer up. */
  readLogAfter(afterSeq: number, recordsMax: number): Promise<{ records: WalRecord[]; more: boolean } | null> {
    if (this.wal === null) return Promise.resolve(null);
    return readLogAfter(this.options.dir, this.wal.segments, afterSeq, this.wal.durableSeq,
      walPayloadBytesMax(this.options.valueBytesMax), recordsMax);
  }

  /** Stops taking requests, lets maintenance and the log finish, closes the log. */
  async close(): Promise<void> {
    this.closed = true;
    await this.maintenance.idle(Number.POSITIVE_INFINITY);
    await this.wal?.close();
    this.values.closeAll();
  }
}

/** Largest WAL payload a record of this node may carry (a bound for replay). */
export function walPayloadBytesMax(valueBytesMax: number): number {
  return valueBytesMax + 2 * (2 + KV_KEY_BYTES_MAX) + 64;
}
