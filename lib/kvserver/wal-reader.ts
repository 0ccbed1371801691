/**
 * Reads the write-ahead log back: at start-up (recovery, which cuts a torn or corrupt tail off
 * the last segment) and for a peer that wants every record after a sequence number.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../protocol/log.js';
import { decodeWalRecords, type WalRecord } from './wal-record.js';
import { WAL_MAGIC, listSegmentFiles, type WalSegment } from './wal-segments.js';
import { createSegment, truncateSegment } from './wal-writer.js';

/** A log that cannot be replayed safely; the message names the file. The node must not start. */
export class WalCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalCorruptError';
  }
}

export interface WalRecoveryResult {
  segments: WalSegment[];
  /** Sequence number of the last good record, or 0 when the log holds none. */
  lastSeq: number;
}

/** Where a record lies in the log: its segment (first seq), offset in the file and length. */
export interface WalPlace {
  segment: number;
  position: number;
  recordBytes: number;
}

/**
 * Replays every good record through `apply`, segment by segment (one segment in memory at a
 * time), with where it lies. A torn or corrupt tail of the last segment was never
 * acknowledged: it is cut off. Damage anywhere else means acknowledged writes are gone, so
 * recovery refuses. A segment whose records all precede `replayFromSeq` (every checkpoint
 * holds them: it is kept only for the values in it) is not read; a value read from it later
 * is checked then.
 */
export async function recoverWal(
  dir: string,
  payloadBytesMax: number,
  log: Logger,
  apply: (record: WalRecord, place: WalPlace) => Promise<void>,
  replayFromSeq = 0,
): Promise<WalRecoveryResult> {
  const files = await listSegmentFiles(dir);
  const segments: WalSegment[] = [];
  let lastSeq = 0;
  for (let i = 0; i < files.length; i++) {
    const { firstSeq, file } = files[i]!;
    const isLast = i === files.length - 1;
    const path = join(dir, file);
    const next = files[i + 1];
    if (next !== undefined && next.firstSeq <= replayFromSeq) {
      if (segments.length > 0 && firstSeq !== lastSeq + 1) {
        throw new WalCorruptError(`log segment ${path} starts at seq ${firstSeq} but the previous one ended at ${lastSeq}; refusing to start`);
      }
      // A closed segment was cut to its records when the next one started.
      segments.push({ firstSeq, file, bytes: (await stat(path)).size });
      lastSeq = next.firstSeq - 1;
      continue;
    }
    const bytes = await readFile(path);
    if (bytes.length < WAL_MAGIC.length || !bytes.subarray(0, WAL_MAGIC.length).equals(WAL_MAGIC)) {
      if (!isLast || bytes.length >= WAL_MAGIC.length) {
        throw new WalCorruptError(`log segment ${path} does not start with the WAL magic; refusing to start`);
      }
      // Created but its header never fully written: a crash while rolling. Start it afresh.
      log.warn('log segment header was torn; rewriting it', { file });
      segments.push(await createSegment(dir, firstSeq));
      continue;
    }
    const positions: number[] = [];
    const decoded = decodeWalRecords(bytes, WAL_MAGIC.length, payloadBytesMax, firstSeq, positions);
    if (decoded.stop === 'gap') throw new WalCorruptError(`log segment ${path}: ${decoded.problem}; refusing to start`);
    if (segments.length > 0 && firstSeq !== lastSeq + 1) {
      throw new WalCorruptError(`log segment ${path} starts at seq ${firstSeq} but the previous one ended at ${lastSeq}; refusing to start`);
    }
    const goodEnd = WAL_MAGIC.length + decoded.goodBytes;
    if (decoded.stop === 'unused') {
      // The rest of a segment written over (wal-writer.ts): not records of this log. A closed
      // segment was cut to its records when the next one started, and the next one's first
      // seq (checked above) tells whether records are missing.
      if (isLast) await truncateSegment(dir, file, goodEnd);
      log.debug('log segment ends before its file does', { file, records: decoded.records.length, fileBytes: bytes.length, problem: decoded.problem });
    } else if (decoded.stop !== 'end') {
      if (!isLast) {
        throw new WalCorruptError(`log segment ${path} is damaged at byte ${goodEnd} (${decoded.problem}) and later segments exist; refusing to start`);
      }
      log.warn('dropping the torn or corrupt tail of the log', {
        file, offset: goodEnd, droppedBytes: bytes.length - goodEnd, problem: decoded.problem,
      });
      await truncateSegment(dir, file, goodEnd);
    }
    for (let r = 0; r < decoded.records.length; r++) {
      const position = positions[r]!;
      await apply(decoded.records[r]!, { segment: firstSeq, position, recordBytes: (positions[r + 1] ?? goodEnd) - position });
    }
    if (decoded.records.length > 0) lastSeq = decoded.records.at(-1)!.seq;
    else lastSeq = Math.max(lastSeq, firstSeq - 1);
    segments.push({ firstSeq, file, bytes: goodEnd });
  }
  return { segments, lastSeq };
}

/**
 * The durable records after `afterSeq` (at most `recordsMax`), or null when the log no longer
 * reaches back that far and the caller needs a tablet snapshot instead.
 */
export async function readLogAfter(
  dir: string,
  segments: readonly WalSegment[],
  afterSeq: number,
  durableSeq: number,
  payloadBytesMax: number,
  recordsMax: number,
): Promise<{ records: WalRecord[]; more: boolean } | null> {
  if (segments.length === 0 || segments[0]!.firstSeq > afterSeq + 1) return null;
  const records: WalRecord[] = [];
  for (let i = 0; i < segments.length; i++) {
    const next = segments[i + 1];
    if (next !== undefined && next.firstSeq <= afterSeq + 1) continue;
    const bytes = await readFile(join(dir, segments[i]!.file));
    const decoded = decodeWalRecords(bytes.subarray(0, segments[i]!.bytes), WAL_MAGIC.length, payloadBytesMax);
    for (const r of decoded.records) {
      if (r.seq <= afterSeq || r.seq > durableSeq) continue;
      if (records.length === recordsMax) return { records, more: true };
      records.push(r);
    }
  }
  return { records, more: false };
}
