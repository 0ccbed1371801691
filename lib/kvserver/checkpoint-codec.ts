/**
 * The checkpoint file: a full snapshot of one tablet at a sequence number. Pure.
 *
 * Layout (big-endian), format 2 (written now):
 *   8-byte magic "PNCCKPT2" | u64 seq | u64 accounted bytes | u64 resident bytes
 *   | u16 start length | start | u8 has-end | (u16 end length | end) | u32 cell count
 *   | cells: u16 row length | row | u16 column length | column | u8 kind | u32 value length
 *       kind 0 (in the file): value
 *       kind 1 (in the log):  u64 segment | u64 position | u32 record bytes | u64 seq
 *   | u32 CRC-32 of every byte before it
 * A kind-1 cell is a value kept in the log (logged-value.ts): the PUT record of `seq`, at byte
 * `position` of the segment that starts at seq `segment`. Format 1 (magic "PNCCKPT1") has no
 * resident bytes and no kind byte: every value is in the file. It is still read.
 */
import { crc32 } from 'node:zlib';
import { LoggedValue, countLoggedBytes, type StoredValue } from './logged-value.js';
import { Tablet } from './tablet.js';

const MAGIC = Buffer.from('PNCCKPT2', 'latin1');
const MAGIC_V1 = Buffer.from('PNCCKPT1', 'latin1');
const CRC_BYTES = 4;
const KIND_IN_FILE = 0;
const KIND_IN_LOG = 1;
/** A kind-1 cell after its value length: segment, position, record bytes, seq. */
const IN_LOG_BYTES = 8 + 8 + 4 + 8;

/** A checkpoint that fails its checks; the message says what, the caller adds which file. */
export class CheckpointCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointCorruptError';
  }
}

/** The header fields of a checkpoint. */
export interface CheckpointHeader {
  seq: number;
  bytes: number;
  /** Bytes the tablet holds in memory once loaded (format 1: the accounted bytes). */
  residentBytes: number;
  start: string;
  end: string | null;
  cellCount: number;
  /** 1 or 2. */
  format: number;
}

/**
 * Values at least this long go into a checkpoint as they are (referenced, not copied); shorter
 * ones are copied with the keys into the current piece.
 */
export const CHECKPOINT_VALUE_REF_BYTES_MIN = 4 * 1024;
/** Size of the pieces that carry keys, lengths and short values. */
const CHECKPOINT_PIECE_BYTES = 64 * 1024;

/**
 * Reads a value kept in the log, for a checkpoint that must hold every value itself (a
 * snapshot for a peer, whose log is its own).
 */
export type LoggedValueReader = (value: LoggedValue, row: string, column: string) => Buffer;

/**
 * Encodes a snapshot of `tablet` as of `seq` into one buffer (a consistent copy). With
 * `readLogged`, values kept in the log are read into it; without, they stay references.
 */
export function encodeCheckpoint(tablet: Tablet, seq: number, readLogged?: LoggedValueReader): Buffer {
  return Buffer.concat(encodeCheckpointParts(tablet, seq, readLogged));
}

/**
 * Encodes a snapshot of `tablet` as of `seq` as buffers to be written one after the other.
 * Keys, lengths and short values are copied into pieces of CHECKPOINT_PIECE_BYTES; long values
 * are referenced as the tablet holds them: a stored value is never changed in place (a write
 * replaces the buffer), so the parts stay a consistent snapshot after the tablet moves on, and
 * a tablet of large values is checkpointed without copying them. The CRC runs along.
 */
export function encodeCheckpointParts(tablet: Tablet, seq: number, readLogged?: LoggedValueReader): Buffer[] {
  const parts: Buffer[] = [];
  let crc = 0;
  // The bytes of `piece` from `start` to `pos` are encoded and not yet in `parts`.
  let piece = Buffer.allocUnsafe(CHECKPOINT_PIECE_BYTES);
  let start = 0;
  let pos = 0;
  const flush = (): void => {
    if (pos === start) return;
    const done = piece.subarray(start, pos);
    crc = crc32(done, crc);
    parts.push(done);
    start = pos;
  };
  const room = (n: number): void => {
    if (pos + n <= piece.length) return;
    flush();
    piece = Buffer.allocUnsafe(Math.max(n, CHECKPOINT_PIECE_BYTES));
    start = 0;
    pos = 0;
  };
  const key = (s: string): void => {
    const n = Buffer.byteLength(s, 'utf8');
    room(2 + n);
    pos = piece.writeUInt16BE(n, pos);
    pos += piece.write(s, pos, 'utf8');
  };
  let cellCount = 0;
  for (const _cell of tablet.cells()) cellCount++;
  const u64 = (n: number): void => {
    pos = piece.writeUInt32BE(Math.floor(n / 0x1_0000_0000), pos); // two halves: no BigInt
    pos = piece.writeUInt32BE(n >>> 0, pos);
  };
  room(MAGIC.length + 24);
  pos += MAGIC.copy(piece, pos);
  u64(seq);
  u64(tablet.bytes);
  // Read back, every value in the file is held in memory again.
  u64(readLogged === undefined ? tablet.residentBytes : tablet.bytes);
  key(tablet.start);
  room(1);
  piece[pos++] = tablet.end === null ? 0 : 1;
  if (tablet.end !== null) key(tablet.end);
  room(4);
  pos = piece.writeUInt32BE(cellCount, pos);
  for (const [row, column, stored] of tablet.cells()) {
    key(row);
    key(column);
    room(1 + 4 + IN_LOG_BYTES);
    if (stored instanceof LoggedValue && readLogged === undefined) {
      piece[pos++] = KIND_IN_LOG;
      pos = piece.writeUInt32BE(stored.length, pos);
      u64(stored.segment);
      u64(stored.position);
      pos = piece.writeUInt32BE(stored.recordBytes, pos);
      u64(stored.seq);
      continue;
    }
    const value = stored instanceof LoggedValue ? readLogged!(stored, row, column) : stored;
    piece[pos++] = KIND_IN_FILE;
    pos = piece.writeUInt32BE(value.length, pos);
    if (value.length >= CHECKPOINT_VALUE_REF_BYTES_MIN) {
      flush();
      crc = crc32(value, crc);
      parts.push(value);
    } else {
      room(value.length);
      pos += value.copy(piece, pos);
    }
  }
  flush();
  const tail = Buffer.allocUnsafe(CRC_BYTES);
  tail.writeUInt32BE(crc, 0);
  parts.push(tail);
  return parts;
}

/** Checks magic and checksum and reads the header. Throws CheckpointCorruptError. */
export function readCheckpointHeader(bytes: Buffer): { header: CheckpointHeader; cellsOffset: number } {
  if (bytes.length < MAGIC.length + 8 + 8 + 2 + 1 + 4 + CRC_BYTES) throw new CheckpointCorruptError(`file is too short (${bytes.length} bytes)`);
  const magic = bytes.subarray(0, MAGIC.length);
  const format = magic.equals(MAGIC) ? 2 : magic.equals(MAGIC_V1) ? 1 : 0;
  if (format === 0) throw new CheckpointCorruptError('bad magic: not a checkpoint file');
  const bodyEnd = bytes.length - CRC_BYTES;
  if (crc32(bytes.subarray(0, bodyEnd)) !== bytes.readUInt32BE(bodyEnd)) {
    throw new CheckpointCorruptError('checksum mismatch');
  }
  const r = new CheckpointReader(bytes, MAGIC.length, bodyEnd);
  const seq = r.u64();
  const accounted = r.u64();
  const residentBytes = format === 2 ? r.u64() : accounted;
  const start = r.key();
  const end = r.u8() === 1 ? r.key() : null;
  const cellCount = r.u32();
  return { header: { seq, bytes: accounted, residentBytes, start, end, cellCount, format }, cellsOffset: r.pos };
}

/**
 * Calls `cell` for every cell of a checkpoint whose header was read: a value in the file as a
 * view into `bytes`, a value in the log as its reference. Throws CheckpointCorruptError.
 */
function readCells(
  bytes: Buffer, header: CheckpointHeader, cellsOffset: number, cell: (row: string, column: string, value: StoredValue) => void,
): void {
  const r = new CheckpointReader(bytes, cellsOffset, bytes.length - CRC_BYTES);
  for (let i = 0; i < header.cellCount; i++) {
    const row = r.key();
    const column = r.key();
    const kind = header.format === 1 ? KIND_IN_FILE : r.u8();
    const n = r.u32();
    if (kind === KIND_IN_FILE) {
      cell(row, column, r.take(n));
    } else if (kind === KIND_IN_LOG) {
      const segment = r.u64();
      const position = r.u64();
      const recordBytes = r.u32();
      const seq = r.u64();
      if (n === 0 || recordBytes <= n || seq < segment) throw new CheckpointCorruptError(`a value in the log (seq ${seq}) has impossible bounds`);
      cell(row, column, new LoggedValue(segment, position, recordBytes, seq, n));
    } else {
      throw new CheckpointCorruptError(`a cell of unknown kind ${kind}`);
    }
  }
  if (r.pos !== bytes.length - CRC_BYTES) throw new CheckpointCorruptError('trailing bytes after the last cell');
}

/** Decodes a whole checkpoint into a tablet; values in the file are copied out of `bytes`. */
export function decodeCheckpoint(bytes: Buffer): { header: CheckpointHeader; tablet: Tablet } {
  const { header, cellsOffset } = readCheckpointHeader(bytes);
  const tablet = new Tablet(header.start, header.end);
  readCells(bytes, header, cellsOffset, (row, column, value) => {
    tablet.put(row, column, value instanceof LoggedValue ? value : Buffer.from(value));
  });
  if (tablet.bytes !== header.bytes || tablet.residentBytes !== header.residentBytes) {
    throw new CheckpointCorruptError(`accounted bytes ${tablet.bytes} (resident ${tablet.residentBytes}) differ from the header's ${header.bytes} (${header.residentBytes})`);
  }
  return { header, tablet };
}

/**
 * Checks a whole checkpoint (magic, checksum, every cell) without building its tablet: its
 * header, and per log segment the bytes of the values it keeps there.
 */
export function verifyCheckpointBytes(bytes: Buffer): { header: CheckpointHeader; loggedBytes: Map<number, number> } {
  const { header, cellsOffset } = readCheckpointHeader(bytes);
  const loggedBytes = new Map<number, number>();
  readCells(bytes, header, cellsOffset, (_row, _column, value) => {
    if (value instanceof LoggedValue) countLoggedBytes(loggedBytes, value.segment, value.length);
  });
  return { header, loggedBytes };
}

class CheckpointReader {
  constructor(private readonly buf: Buffer, public pos: number, private readonly end: number) {}

  take(n: number): Buffer {
    if (this.pos + n > this.end) throw new CheckpointCorruptError('a field runs past the end of the file');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  u64(): number {
    const v = Number(this.take(8).readBigUInt64BE(0));
    if (!Number.isSafeInteger(v)) throw new CheckpointCorruptError('a 64-bit field is out of range');
    return v;
  }

  key(): string {
    return this.take(this.u16()).toString('utf8');
  }

  private u16(): number {
    return this.take(2).readUInt16BE(0);
  }
}
