/**
 * Reads the write-ahead log back: at start-up (recovery, which cuts a torn or corrupt tail off
 * the last segment) and for a peer that wants every record after a sequence number.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../protocol/log.js';
import { WAL_RECORD_PREFIX_BYTES, decodeWalRecords, type WalRecord } from './wal-record.js';
import {
  WAL_MAGIC, createSegment, listSegmentFiles, markRecord, truncateSegment, type WalPlace, type WalSegment,
} from './wal-segments.js';

export type { WalPlace } from './wal-segments.js';

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
    const segment: WalSegment = { firstSeq, file, bytes: goodEnd, marks: [] };
    for (let r = 0; r < decoded.records.length; r++) markRecord(segment, decoded.records[r]!.seq, positions[r]!);
    segments.push(segment);
  }
  return { segments, lastSeq };
}

/** Bytes read from a segment at a time when reading records after a seq. */
export const LOG_READ_CHUNK_BYTES = 512 * 1024;

/**
 * The durable records after `afterSeq` (at most `recordsMax`), or null when the log no longer
 * reaches back that far and the caller needs a tablet snapshot instead. Reads start at the
 * segment's last mark at or before the first record wanted and go on in chunks, so a page
 * costs about its own bytes, not the segment's.
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
    const segment = segments[i]!;
    const next = segments[i + 1];
    if (next !== undefined && next.firstSeq <= afterSeq + 1) continue;
    const full = await readSegmentAfter(dir, segment, afterSeq, durableSeq, payloadBytesMax, recordsMax, records);
    if (full) return { records, more: true };
  }
  return { records, more: false };
}

/**
 * Appends to `records` the durable records of `segment` after `afterSeq`, until `recordsMax`
 * are held and another one follows (true then) or the segment's records end.
 */
async function readSegmentAfter(
  dir: string, segment: WalSegment, afterSeq: number, durableSeq: number, payloadBytesMax: number, recordsMax: number, records: WalRecord[],
): Promise<boolean> {
  let position = WAL_MAGIC.length;
  for (const mark of segment.marks ?? []) {
    if (mark.seq > afterSeq + 1) break;
    position = mark.position;
  }
  const end = segment.bytes;
  const handle = await open(join(dir, segment.file), 'r');
  try {
    let chunk = Buffer.allocUnsafe(LOG_READ_CHUNK_BYTES);
    while (position < end) {
      const want = Math.min(chunk.length, end - position);
      const { bytesRead } = await handle.read(chunk, 0, want, position);
      if (bytesRead === 0) return false;
      const decoded = decodeWalRecords(chunk.subarray(0, bytesRead), 0, payloadBytesMax);
      for (const r of decoded.records) {
        if (r.seq > durableSeq) return false;
        if (r.seq <= afterSeq) continue;
        if (records.length === recordsMax) return true; // and there is more
        // The chunk is reused: a record kept is copied out of it.
        records.push(r.op === 'PUT' ? { ...r, value: Buffer.from(r.value) } : r);
      }
      position += decoded.goodBytes;
      if (decoded.stop === 'end') continue;
      if (decoded.stop !== 'torn') return false; // past the records (zeros laid ahead) or damage
      if (decoded.goodBytes === 0) {
        // One record longer than the chunk: read it whole next time.
        if (bytesRead < WAL_RECORD_PREFIX_BYTES) return false;
        const recordBytes = WAL_RECORD_PREFIX_BYTES + chunk.readUInt32BE(0);
        if (recordBytes > end - position) return false;
        chunk = Buffer.allocUnsafe(recordBytes);
      }
    }
    return false;
  } finally {
    await handle.close();
  }
}
