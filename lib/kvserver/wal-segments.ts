/**
 * WAL segment files: `wal-<first seq, 20 digits>.log`, each starting with an 8-byte magic.
 * Naming by first sequence number orders them and tells where a reader must start.
 *
 * Spare segments: `wal-spare-<last seq, 20 digits>.log`, a segment the log no longer needs,
 * kept to be written over as a later segment (wal-writer.ts). Its name gives the highest seq
 * it may still hold, so that it is reused only by a segment whose records all come after.
 *
 * Making a new segment and cutting one back are here too, so the reader (recovery) and the
 * writer both use them and neither imports the other.
 */
import { ftruncate } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, writeAll } from './durable-files.js';

export const WAL_MAGIC = Buffer.from('PNCWAL01', 'latin1');
const SEGMENT_PATTERN = /^wal-(\d{20})\.log$/;
const SPARE_PATTERN = /^wal-spare-(\d{20})\.log$/;

export interface WalSegment {
  /** Sequence number of the first record this segment holds (or will hold). */
  firstSeq: number;
  file: string;
  /** Bytes in the file, magic included. */
  bytes: number;
  /**
   * Where some durable records start, in seq order, about every WAL_MARK_INTERVAL_BYTES: a
   * reader after a seq starts at the last mark before it instead of the segment's start.
   * None for a segment recovery did not read (it starts from the beginning then).
   */
  marks?: WalMark[];
}

/** A record of a segment: its seq and the offset in the file where it starts. */
export interface WalMark {
  seq: number;
  position: number;
}

/** Log bytes between two marks of a segment (at least). */
export const WAL_MARK_INTERVAL_BYTES = 256 * 1024;

/** Marks `seq` at `position` of `segment` if the last mark is far enough back. */
export function markRecord(segment: WalSegment, seq: number, position: number): void {
  const marks = segment.marks ?? (segment.marks = []);
  const last = marks.at(-1);
  if (last === undefined || position - last.position >= WAL_MARK_INTERVAL_BYTES) marks.push({ seq, position });
}

export function segmentFileName(firstSeq: number): string {
  return `wal-${String(firstSeq).padStart(20, '0')}.log`;
}

/** Whether `name` is the name of a log segment file. */
export function isSegmentFileName(name: string): boolean {
  return SEGMENT_PATTERN.test(name);
}

/** The segment files of `dir` in order of first sequence number (sizes not yet known). */
export async function listSegmentFiles(dir: string): Promise<{ firstSeq: number; file: string }[]> {
  const names = await readdir(dir);
  const out: { firstSeq: number; file: string }[] = [];
  for (const name of names) {
    const m = SEGMENT_PATTERN.exec(name);
    if (m !== null) out.push({ firstSeq: Number(m[1]), file: name });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

/** A spare segment: its file and the highest seq any record in it may carry. */
export interface WalSpare {
  lastSeq: number;
  file: string;
}

export function spareFileName(lastSeq: number): string {
  return `wal-spare-${String(lastSeq).padStart(20, '0')}.log`;
}

/** The spare segment files of `dir`, lowest last seq first. */
export async function listSpareFiles(dir: string): Promise<WalSpare[]> {
  const out: WalSpare[] = [];
  for (const name of await readdir(dir)) {
    const m = SPARE_PATTERN.exec(name);
    if (m !== null) out.push({ lastSeq: Number(m[1]), file: name });
  }
  return out.sort((a, b) => a.lastSeq - b.lastSeq);
}

/** Where a record lies: its segment (index in the list), its offset, and its bytes. */
export interface WalPlace {
  segment: number;
  position: number;
  recordBytes: number;
}

/** ftruncate(2) as a promise. */
export function truncateFile(fd: number, bytes: number): Promise<void> {
  return new Promise<void>((resolve, reject) => ftruncate(fd, bytes, (err) => (err ? reject(err) : resolve())));
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
    await truncateFile(handle.fd, bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
