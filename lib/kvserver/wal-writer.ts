/**
 * Appends records to the write-ahead log with group commit: records appended while a write is
 * under way wait together, and the next single write covers all of them. The segment being
 * appended to is open with O_DSYNC, so that write returns only once its records are on disk
 * (one system call where write + fdatasync took two trips to the I/O threads). A caller learns
 * its record is durable through waitDurable(seq), or the `durableListener` hears of every
 * batch. A failed write is fatal: memory may then hold writes the disk does not, so the node
 * must stop.
 */
import assert from 'node:assert/strict';
import { constants, ftruncate } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, writeAll } from './durable-files.js';
import { encodeWalRecord, type WalRecord } from './wal-record.js';
import { WAL_MAGIC, segmentFileName, type WalSegment } from './wal-segments.js';

/** A segment grows to this size at most before a new one starts (one record may overshoot). */
export const WAL_SEGMENT_BYTES_MAX = 64 * 1024 * 1024;

/** Bytes one group-commit write carries at most; the rest waits for the next round. */
export const WAL_BATCH_BYTES_MAX = 32 * 1024 * 1024;

/** The segment being appended to: every write is durable when it returns (O_DSYNC). */
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_DSYNC;

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class WalWriter {
  private pending: { seq: number; parts: Buffer[]; bytes: number }[] = [];
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

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    /** Every retained segment, oldest first; the last is the one being appended to. */
    readonly segments: WalSegment[],
    lastSeq: number,
    private readonly onFatal: (err: Error) => void,
  ) {
    this.lastAppendedSeq = lastSeq;
    this.durableSeq = lastSeq;
  }

  /**
   * Opens the log for appending after recovery. `segments` are the retained segments (the
   * last one already cut back to its last good record); with none, a first one is created.
   */
  static async open(dir: string, segments: WalSegment[], lastSeq: number, onFatal: (err: Error) => void): Promise<WalWriter> {
    const list = [...segments];
    if (list.length === 0) list.push(await createSegment(dir, lastSeq + 1));
    const handle = await open(join(dir, list.at(-1)!.file), APPEND_FLAGS);
    return new WalWriter(dir, handle, list, lastSeq, onFatal);
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

  /** Queues a record; it is written with the next group commit. Sequence numbers must rise. */
  append(record: WalRecord): void {
    if (this.failure !== null) throw this.failure;
    if (record.seq <= this.lastAppendedSeq) assert.fail(`WAL seq ${record.seq} after ${this.lastAppendedSeq}`);
    this.lastAppendedSeq = record.seq;
    const parts = encodeWalRecord(record);
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.pending.push({ seq: record.seq, parts, bytes });
    this.kick();
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

  /** Deletes closed segments whose records all precede `seq` (they are covered by checkpoints). */
  async dropSegmentsBefore(seq: number): Promise<number> {
    let dropped = 0;
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= seq) {
      const old = this.segments.shift()!;
      await unlink(join(this.dir, old.file));
      dropped++;
    }
    if (dropped > 0) await fsyncDirectory(this.dir);
    return dropped;
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
    while (this.pending.length > 0 || this.rollWaiters.length > 0) {
      if (this.pending.length > 0) {
        await this.flushBatch();
        continue;
      }
      // A segment with no record yet already is a fresh one: roll onto it.
      if (this.segments.at(-1)!.bytes > WAL_MAGIC.length) await this.startSegment();
      const firstSeq = this.segments.at(-1)!.firstSeq;
      for (const w of this.rollWaiters.splice(0)) w(firstSeq);
    }
    this.flushing = false;
  }

  private async flushBatch(): Promise<void> {
    let take = 0;
    let bytes = 0;
    while (take < this.pending.length && (take === 0 || bytes + this.pending[take]!.bytes <= WAL_BATCH_BYTES_MAX)) {
      bytes += this.pending[take]!.bytes;
      take++;
    }
    const batch = this.pending.splice(0, take);
    const parts: Buffer[] = [];
    for (const r of batch) parts.push(...r.parts);
    await writeAll(this.handle.fd, parts);
    this.segments.at(-1)!.bytes += bytes;
    this.durableSeq = batch.at(-1)!.seq;
    this.durableListener?.(this.durableSeq);
    this.releaseWaiters();
    if (this.segments.at(-1)!.bytes >= WAL_SEGMENT_BYTES_MAX) await this.startSegment();
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
    const next = await createSegment(this.dir, this.durableSeq + 1);
    await this.handle.close();
    this.handle = await open(join(this.dir, next.file), APPEND_FLAGS);
    this.segments.push(next);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.onFatal(err);
  }
}

/** Creates a segment holding only its magic, durably (file and directory fsynced). */
export async function createSegment(dir: string, firstSeq: number): Promise<WalSegment> {
  const file = segmentFileName(firstSeq);
  const handle = await open(join(dir, file), 'w');
  try {
    await writeAll(handle.fd, [WAL_MAGIC]);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncDirectory(dir);
  return { firstSeq, file, bytes: WAL_MAGIC.length };
}

/** Cuts a segment back to `bytes` (dropping a torn or corrupt tail) and fsyncs it. */
export async function truncateSegment(dir: string, file: string, bytes: number): Promise<void> {
  const handle = await open(join(dir, file), 'r+');
  try {
    await new Promise<void>((resolve, reject) => ftruncate(handle.fd, bytes, (err) => (err ? reject(err) : resolve())));
    await handle.sync();
  } finally {
    await handle.close();
  }
}
