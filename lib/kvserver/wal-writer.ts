/**
 * Appends records to the write-ahead log with group commit: records appended while a write is
 * under way wait together, and the next single write covers all of them (a large batch may
 * start beside it: WAL_WRITES_IN_FLIGHT_MAX; records become durable in log order all the
 * same, a write counting only once every write before it landed). The segment being
 * appended to is open with O_DSYNC, so that write returns only once its records are on disk
 * (one system call where write + fdatasync took two trips to the I/O threads). A caller learns
 * its record is durable through waitDurable(seq), or the `durableListener` hears of every
 * batch. A failed write is fatal: memory may then hold writes the disk does not, so the node
 * must stop.
 *
 * The log writes over file space it already has rather than growing files where it can. A
 * write that does not grow its file has no new file size to commit, so O_DSYNC costs one
 * device flush instead of a journal commit too; and writing over a file reuses its pages in
 * the page cache instead of taking fresh memory for every byte logged.
 * - A segment the log no longer needs becomes a spare (up to WAL_SPARE_SEGMENTS_MAX; the rest
 *   are deleted). A new segment is a spare renamed and written over from its start.
 * - Small group commits write into zeros laid down ahead of them, WAL_PREALLOCATE_BYTES at a
 *   time; large ones (file chunks) just grow the file.
 * So the last segment may hold zeros, or records of the older segment it was, after its own
 * records. Those all have lower seqs (a spare is reused only by a segment starting after its
 * last seq), and recovery stops there (wal-reader.ts). A segment is cut to its records before
 * the next one starts, so only the last one ever has such a tail.
 */
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, writeAll, writeAllSync } from './durable-files.js';
import { encodeWalRecord, type WalRecord } from './wal-record.js';
import {
  WAL_MAGIC, createSegment, listSpareFiles, markRecord, segmentFileName, spareFileName, truncateFile, type WalPlace, type WalSegment, type WalSpare,
} from './wal-segments.js';

/** A segment grows to this size at most before a new one starts (one record may overshoot). */
export const WAL_SEGMENT_BYTES_MAX = 64 * 1024 * 1024;

/** Bytes one group-commit write carries at most; the rest waits for the next round. */
export const WAL_BATCH_BYTES_MAX = 32 * 1024 * 1024;

/** Segments no longer needed that are kept to be written over by later ones. */
export const WAL_SPARE_SEGMENTS_MAX = 2;

/** Zeros laid down at a time ahead of small group commits. */
export const WAL_PREALLOCATE_BYTES = 1024 * 1024;

/**
 * Group-commit writes under way at once. A second one starts only for a large batch (file
 * chunks): ext4 lets it copy its data while the first waits for the device, and one journal
 * commit can cover both. Uploads of 256 MiB into three replicas ran about 30% faster with 2
 * than with 1 (no faster with 3 or 4).
 */
export const WAL_WRITES_IN_FLIGHT_MAX = 2;

/** Group commits up to this size write into preallocated zeros; larger ones grow the file. */
const PREALLOCATED_BATCH_BYTES_MAX = 64 * 1024;

const ZEROS = Buffer.alloc(WAL_PREALLOCATE_BYTES);

/** The segment being written: every write is durable when it returns (O_DSYNC). */
const SEGMENT_FLAGS = constants.O_WRONLY | constants.O_DSYNC;

export interface WalWriterSettings {
  /** A segment grows to this size at most (default WAL_SEGMENT_BYTES_MAX). */
  segmentBytesMax?: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Hears where long values were logged (logged-value.ts), once they are durable. */
export interface WalValueListener {
  /** PUT records with values at least this long are reported. */
  bytesMin: number;
  logged(record: WalRecord, place: WalPlace): void;
}

/** A group-commit write under way. */
interface WalWrite {
  batch: { record: WalRecord; parts: Buffer[]; bytes: number }[];
  segment: WalSegment;
  /** Offset of its first record in the segment file. */
  at: number;
  /** It lays down zeros ahead first. */
  zerosFirst: boolean;
  finished: boolean;
  done: Promise<void>;
}

export class WalWriter {
  private pending: { record: WalRecord; parts: Buffer[]; bytes: number }[] = [];
  /** Bytes of the pending records. */
  private pendingBytes = 0;
  /** Writes under way, oldest first (at most WAL_WRITES_IN_FLIGHT_MAX). */
  private writing: WalWrite[] = [];
  /** Wakes the flush loop, waiting for a write, once enough records wait to start another. */
  private moreRecords: (() => void) | null = null;
  private waiters: Waiter[] = [];
  private flushing = false;
  /** Settles when the current flush loop ends. */
  private flushDone: Promise<void> = Promise.resolve();
  private rollWaiters: ((firstSeq: number) => void)[] = [];
  private failure: Error | null = null;
  private lastAppendedSeq: number;
  durableSeq: number;
  /** Called after every batch made durable (with the new durableSeq), before waiters resolve. */
  durableListener: ((durableSeq: number) => void) | null = null;
  /** Hears of every long value made durable, before durableListener. */
  valueListener: WalValueListener | null = null;
  /** Called with the first seq of every segment that leaves the log (made a spare or deleted). */
  droppedListener: ((segment: number) => void) | null = null;
  /**
   * Small group commits are written on this thread, not handed to an I/O thread (set on a
   * secondary: KvStore.logWritesInline). See startWrite.
   */
  smallWritesInline = false;

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    /** Bytes in the file of the last segment: its records, then zeros or an older segment's. */
    private fileBytes: number,
    /** Every retained segment, oldest first; the last is the one being appended to. */
    readonly segments: WalSegment[],
    /** Segments to write over, lowest last seq first. */
    private readonly spares: WalSpare[],
    lastSeq: number,
    private readonly onFatal: (err: Error) => void,
    private readonly segmentBytesMax: number,
  ) {
    this.lastAppendedSeq = lastSeq;
    this.durableSeq = lastSeq;
  }

  /**
   * Opens the log for appending after recovery. `segments` are the retained segments (the
   * last one already cut back to its last good record); with none, a first one is started.
   */
  static async open(
    dir: string, segments: WalSegment[], lastSeq: number, onFatal: (err: Error) => void, settings: WalWriterSettings = {},
  ): Promise<WalWriter> {
    // Every spare kept precedes the log (later ones only ever come from older segments), so
    // its records can never pass for records of a segment started over it. One past the end
    // of this log belongs to another history (a snapshot restarted it lower): deleted.
    const spares: WalSpare[] = [];
    for (const spare of await listSpareFiles(dir)) {
      if (spare.lastSeq > lastSeq) await unlink(join(dir, spare.file));
      else spares.push(spare);
    }
    const list = [...segments];
    if (list.length === 0) list.push(await startSegmentFile(dir, lastSeq + 1, spares));
    const handle = await open(join(dir, list.at(-1)!.file), SEGMENT_FLAGS);
    const fileBytes = (await handle.stat()).size;
    return new WalWriter(dir, handle, fileBytes, list, spares, lastSeq, onFatal, settings.segmentBytesMax ?? WAL_SEGMENT_BYTES_MAX);
  }

  /** Spare segments held now. */
  get spareCount(): number {
    return this.spares.length;
  }

  get lastSeq(): number {
    return this.lastAppendedSeq;
  }

  /** Bytes held by all retained segments. */
  get retainedBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  /**
   * Queues a record; it is written with the next group commit. Sequence numbers must rise.
   * `encoded`: its bytes as they came from the primary (checked), written as they are; else it
   * is encoded here. Returns its bytes (the primary sends them on).
   */
  append(record: WalRecord, encoded?: Buffer[]): Buffer[] {
    if (this.failure !== null) throw this.failure;
    if (record.seq <= this.lastAppendedSeq) assert.fail(`WAL seq ${record.seq} after ${this.lastAppendedSeq}`);
    this.lastAppendedSeq = record.seq;
    const parts = encoded ?? encodeWalRecord(record);
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.pending.push({ record, parts, bytes });
    this.pendingBytes += bytes;
    if (this.moreRecords !== null && this.pendingBytes > PREALLOCATED_BATCH_BYTES_MAX) this.moreRecords();
    this.kick();
    return parts;
  }

  /** Resolves once every record up to `seq` is on disk (written and fdatasync'ed). */
  waitDurable(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Starts a new segment once everything queued so far is durable; resolves with its first seq. */
  roll(): Promise<number> {
    return new Promise((resolve) => {
      this.rollWaiters.push(resolve);
      this.kick();
    });
  }

  /**
   * Gives up closed segments whose records all precede `seq` (they are covered by checkpoints):
   * kept as spares up to WAL_SPARE_SEGMENTS_MAX, deleted past it.
   */
  async dropSegmentsBefore(seq: number): Promise<number> {
    let dropped = 0;
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= seq) {
      const old = this.segments.shift()!;
      this.droppedListener?.(old.firstSeq);
      const lastSeq = this.segments[0]!.firstSeq - 1;
      if (this.spares.length < WAL_SPARE_SEGMENTS_MAX) {
        const file = spareFileName(lastSeq);
        await rename(join(this.dir, old.file), join(this.dir, file));
        this.spares.push({ lastSeq, file });
      } else {
        await unlink(join(this.dir, old.file));
      }
      dropped++;
    }
    if (dropped > 0) await fsyncDirectory(this.dir);
    return dropped;
  }

  /** Resolves when the writer has nothing under way (a segment being started included). */
  settled(): Promise<void> {
    return this.flushDone;
  }

  /** Waits for queued records to be durable, then closes the file. */
  async close(): Promise<void> {
    await this.waitDurable(this.lastAppendedSeq).catch(() => undefined);
    await this.flushDone;
    await this.handle.close();
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = true;
    // Let every request already read from the sockets in this turn join the batch.
    this.flushDone = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flushLoop())
      .catch((err: unknown) => this.fail(err as Error));
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0 || this.rollWaiters.length > 0 || this.writing.length > 0) {
      if (this.pending.length > 0 && this.mayStartWrite()) {
        this.startWrite();
        continue;
      }
      if (this.writing.length > 0) {
        // The oldest write, or new records that may start a write beside it.
        const head = this.writing[0]!;
        if (this.writing.length < WAL_WRITES_IN_FLIGHT_MAX) {
          await Promise.race([head.done, new Promise<void>((resolve) => { this.moreRecords = resolve; })]);
          this.moreRecords = null;
        } else {
          await head.done;
        }
        while (this.writing.length > 0 && this.writing[0]!.finished) this.finishWrite(this.writing.shift()!);
        // A segment filled up: the next one starts before the loop may end.
        if (this.writing.length === 0 && this.segments.at(-1)!.bytes >= this.segmentBytesMax) await this.startSegment();
        continue;
      }
      // A segment with no record yet already is a fresh one: roll onto it.
      if (this.segments.at(-1)!.bytes > WAL_MAGIC.length) await this.startSegment();
      const firstSeq = this.segments.at(-1)!.firstSeq;
      for (const w of this.rollWaiters.splice(0)) w(firstSeq);
    }
    this.flushing = false;
  }

  /** Whether the next batch may be written now, beside the writes under way. */
  private mayStartWrite(): boolean {
    if (this.writing.length === 0) return true;
    if (this.writing.length >= WAL_WRITES_IN_FLIGHT_MAX) return false;
    // Zeros being laid down may cover where the next records go.
    if (this.writing.some((w) => w.zerosFirst)) return false;
    // Only a large batch goes beside another: it grows the file (no zeros to lay first), and
    // small ones are better off joining the next write than paying for one of their own.
    return this.pendingBytes > PREALLOCATED_BATCH_BYTES_MAX && this.segments.at(-1)!.bytes < this.segmentBytesMax;
  }

  /**
   * Takes the next batch and starts writing it after the records already placed (the file
   * may then have a hole until the write before it lands: zeros, where recovery stops).
   */
  private startWrite(): void {
    let take = 0;
    let bytes = 0;
    while (take < this.pending.length && (take === 0 || bytes + this.pending[take]!.bytes <= WAL_BATCH_BYTES_MAX)) {
      bytes += this.pending[take]!.bytes;
      take++;
    }
    const batch = this.pending.splice(0, take);
    this.pendingBytes -= bytes;
    const parts: Buffer[] = [];
    for (const r of batch) parts.push(...r.parts);
    const segment = this.segments.at(-1)!;
    const at = segment.bytes;
    segment.bytes += bytes;
    const zerosFirst = bytes <= PREALLOCATED_BATCH_BYTES_MAX && at + bytes > this.fileBytes;
    const write: WalWrite = { batch, segment, at, zerosFirst, finished: false, done: Promise.resolve() };
    const zerosAt = this.fileBytes;
    if (zerosFirst) this.fileBytes += ZEROS.length;
    this.fileBytes = Math.max(this.fileBytes, segment.bytes);
    // A small batch may be written right here, blocking the event loop for the device's flush
    // (O_DSYNC; about a tenth of a millisecond over file space the log already has): a
    // secondary has nothing else to do meanwhile but queue the next records, and the hand-off
    // to an I/O thread and back costs two wakeups per commit. On two shared cores, with three
    // nodes and a client, it cut the secondaries' CPU per replicated PUT by about a tenth and
    // the PUTs ran about 6% faster (medians of 8 runs each, in A-B-B-A order); on the primary
    // too it gained nothing: the primary keeps taking requests and acks during its own writes.
    // Large batches (file chunks) always go to an I/O thread.
    const inline = this.smallWritesInline && bytes <= PREALLOCATED_BATCH_BYTES_MAX;
    write.done = (async () => {
      // Zeros first, in a write of their own that grows the file: the records then go over them.
      if (zerosFirst) await writeAll(this.handle.fd, [ZEROS], zerosAt);
      if (inline) writeAllSync(this.handle.fd, parts, at);
      else await writeAll(this.handle.fd, parts, at);
      write.finished = true;
    })();
    // A failure surfaces when the loop awaits this write; until then it is not unhandled.
    write.done.catch(() => undefined);
    this.writing.push(write);
  }

  /** A write landed, and every one before it: its records are durable. */
  private finishWrite({ batch, segment, at }: WalWrite): void {
    this.durableSeq = batch.at(-1)!.record.seq;
    const values = this.valueListener;
    let position = at;
    for (const { record, bytes: recordBytes } of batch) {
      markRecord(segment, record.seq, position);
      if (values !== null && record.op === 'PUT' && record.value.length >= values.bytesMin) {
        values.logged(record, { segment: segment.firstSeq, position, recordBytes });
      }
      position += recordBytes;
    }
    this.durableListener?.(this.durableSeq);
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= this.durableSeq) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private async startSegment(): Promise<void> {
    const segment = this.segments.at(-1)!;
    if (this.fileBytes > segment.bytes) {
      // Only the last segment may hold anything after its records.
      await truncateFile(this.handle.fd, segment.bytes);
      await this.handle.datasync();
    }
    const next = await startSegmentFile(this.dir, this.durableSeq + 1, this.spares);
    await this.handle.close();
    this.handle = await open(join(this.dir, next.file), SEGMENT_FLAGS);
    this.fileBytes = (await this.handle.stat()).size;
    this.segments.push(next);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.onFatal(err);
  }
}

/**
 * The file of a new segment starting at `firstSeq`, durably named: the oldest spare written
 * over (every spare holds only seqs before `firstSeq`: see open), else a new file.
 */
async function startSegmentFile(dir: string, firstSeq: number, spares: WalSpare[]): Promise<WalSegment> {
  const spare = spares.shift();
  if (spare === undefined) return createSegment(dir, firstSeq);
  const file = segmentFileName(firstSeq);
  await rename(join(dir, spare.file), join(dir, file));
  const handle = await open(join(dir, file), 'r+');
  try {
    await writeAll(handle.fd, [WAL_MAGIC], 0);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fsyncDirectory(dir);
  return { firstSeq, file, bytes: WAL_MAGIC.length };
}

