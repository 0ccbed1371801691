/**
 * Values kept in the log. A long value is written once, in its log record; once that record is
 * durable, the tablet keeps only where it lies (a LoggedValue) and reads it back from the log
 * segment when asked. Checkpoints hold the same reference instead of a second copy of the
 * bytes, and the log keeps every segment a reference points into (tablet-maintenance.ts).
 * Without this, each byte of a file chunk was written twice on every replica (log, then
 * checkpoint, more than once as its tablet was checkpointed again) and held in memory until
 * its tablet was evicted.
 *
 * A read is a positioned read of the whole record from the page cache, verified like replay
 * verifies it: its checksum, and that it is the PUT of this cell at this seq. A reference that
 * fails the check is damage, reported as an error naming the segment, never served.
 */
import { closeSync, openSync, readSync, constants } from 'node:fs';
import { join } from 'node:path';
import { decodeWalRecords } from './wal-record.js';
import { segmentFileName } from './wal-segments.js';

/**
 * Default length from which a value is read from the log once logged (conf kv.logValueBytesMin).
 * Shorter values stay in memory: a read from the log costs a system call and a checksum pass,
 * which only pays for itself on long values (file chunks, large messages).
 */
export const LOG_VALUE_BYTES_MIN = 64 * 1024;

/** What a LoggedValue costs in memory (object, map entry aside): counted in place of the value. */
export const LOGGED_VALUE_RESIDENT_BYTES = 48;

/** Log segment files a node keeps open for reading values at once; the least recent closes first. */
export const VALUE_LOG_OPEN_FILES_MAX = 64;

/** Where a value lies in the log: the PUT record at `seq`, `position` bytes into segment `segment`. */
export class LoggedValue {
  constructor(
    /** First seq of the segment file (its name: wal-<segment>.log). */
    readonly segment: number,
    /** Offset of the record's first byte in the file. */
    readonly position: number,
    /** Bytes of the whole record. */
    readonly recordBytes: number,
    readonly seq: number,
    /** Bytes of the value. */
    readonly length: number,
  ) {}
}

/**
 * Adds `bytes` (negative: takes them away) to a segment's count in a map of logged value bytes
 * per segment; a count that reaches zero leaves the map.
 */
export function countLoggedBytes(counts: Map<number, number>, segment: number, bytes: number): void {
  const n = (counts.get(segment) ?? 0) + bytes;
  if (n === 0) counts.delete(segment);
  else counts.set(segment, n);
}

/** A cell's value as a tablet holds it: the bytes, or where they lie in the log. */
export type StoredValue = Buffer | LoggedValue;

/** A reference that does not lead to its value: the log is damaged or a segment is gone. */
export class LoggedValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoggedValueError';
  }
}

/** Reads logged values of one node's log directory, keeping segment files open between reads. */
export class ValueLog {
  /** Open read descriptors by segment, least recently used first. */
  private readonly files = new Map<number, number>();

  constructor(private readonly dir: string, private readonly payloadBytesMax: number) {}

  /** The bytes of `value` (as is when held in memory), read and verified when logged. */
  read(value: StoredValue, row: string, column: string): Buffer {
    if (!(value instanceof LoggedValue)) return value;
    const fd = this.fileOf(value.segment);
    const bytes = Buffer.allocUnsafe(value.recordBytes);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, value.position + got);
      if (n === 0) break;
      got += n;
    }
    const where = `${segmentFileName(value.segment)} at byte ${value.position}`;
    if (got < bytes.length) throw new LoggedValueError(`logged value of seq ${value.seq}: ${where} ends ${bytes.length - got} bytes early`);
    const decoded = decodeWalRecords(bytes, 0, this.payloadBytesMax);
    const record = decoded.records[0];
    if (decoded.stop !== 'end' || decoded.records.length !== 1 || record === undefined) {
      throw new LoggedValueError(`logged value of seq ${value.seq}: ${where}: ${decoded.problem || 'not one record'}`);
    }
    if (record.op !== 'PUT' || record.seq !== value.seq || record.row !== row || record.column !== column || record.value.length !== value.length) {
      throw new LoggedValueError(`logged value of seq ${value.seq}: ${where} holds ${record.op} seq ${record.seq}, not this cell's value`);
    }
    return record.value;
  }

  /** Closes the segment's descriptor (the segment leaves the log: renamed or deleted). */
  forget(segment: number): void {
    const fd = this.files.get(segment);
    if (fd === undefined) return;
    this.files.delete(segment);
    closeSync(fd);
  }

  /** Closes every descriptor (the log was replaced, or the store closes). */
  closeAll(): void {
    for (const segment of [...this.files.keys()]) this.forget(segment);
  }

  private fileOf(segment: number): number {
    let fd = this.files.get(segment);
    if (fd !== undefined) {
      this.files.delete(segment);
      this.files.set(segment, fd);
      return fd;
    }
    const path = join(this.dir, segmentFileName(segment));
    try {
      fd = openSync(path, constants.O_RDONLY);
    } catch (err) {
      throw new LoggedValueError(`logged value in ${path}: ${(err as Error).message}`);
    }
    if (this.files.size >= VALUE_LOG_OPEN_FILES_MAX) this.forget(this.files.keys().next().value as number);
    this.files.set(segment, fd);
    return fd;
  }
}
