/**
 * The checkpoint file: a full snapshot of one tablet at a sequence number. Pure.
 *
 * Layout (big-endian):
 *   8-byte magic "PNCCKPT1" | u64 seq | u64 accounted bytes | u16 start length | start
 *   | u8 has-end | (u16 end length | end) | u32 cell count
 *   | cells: u16 row length | row | u16 column length | column | u32 value length | value
 *   | u32 CRC-32 of every byte before it
 */
import { crc32 } from 'node:zlib';
import { Tablet } from './tablet.js';

const MAGIC = Buffer.from('PNCCKPT1', 'latin1');
const CRC_BYTES = 4;

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
  start: string;
  end: string | null;
  cellCount: number;
}

/**
 * Values at least this long go into a checkpoint as they are (referenced, not copied); shorter
 * ones are copied with the keys into the current piece.
 */
export const CHECKPOINT_VALUE_REF_BYTES_MIN = 4 * 1024;
/** Size of the pieces that carry keys, lengths and short values. */
const CHECKPOINT_PIECE_BYTES = 64 * 1024;

/** Encodes a snapshot of `tablet` as of `seq` into one buffer (a consistent copy). */
export function encodeCheckpoint(tablet: Tablet, seq: number): Buffer {
  return Buffer.concat(encodeCheckpointParts(tablet, seq));
}

/**
 * Encodes a snapshot of `tablet` as of `seq` as buffers to be written one after the other.
 * Keys, lengths and short values are copied into pieces of CHECKPOINT_PIECE_BYTES; long values
 * are referenced as the tablet holds them: a stored value is never changed in place (a write
 * replaces the buffer), so the parts stay a consistent snapshot after the tablet moves on, and
 * a tablet of large values is checkpointed without copying them. The CRC runs along.
 */
export function encodeCheckpointParts(tablet: Tablet, seq: number): Buffer[] {
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
  room(MAGIC.length + 16);
  pos += MAGIC.copy(piece, pos);
  pos = piece.writeBigUInt64BE(BigInt(seq), pos);
  pos = piece.writeBigUInt64BE(BigInt(tablet.bytes), pos);
  key(tablet.start);
  room(1);
  piece[pos++] = tablet.end === null ? 0 : 1;
  if (tablet.end !== null) key(tablet.end);
  room(4);
  pos = piece.writeUInt32BE(cellCount, pos);
  for (const [row, column, value] of tablet.cells()) {
    key(row);
    key(column);
    room(4);
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
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new CheckpointCorruptError('bad magic: not a checkpoint file');
  const bodyEnd = bytes.length - CRC_BYTES;
  if (crc32(bytes.subarray(0, bodyEnd)) !== bytes.readUInt32BE(bodyEnd)) {
    throw new CheckpointCorruptError('checksum mismatch');
  }
  const r = new CheckpointReader(bytes, MAGIC.length, bodyEnd);
  const seq = r.u64();
  const accounted = r.u64();
  const start = r.key();
  const end = r.u8() === 1 ? r.key() : null;
  const cellCount = r.u32();
  return { header: { seq, bytes: accounted, start, end, cellCount }, cellsOffset: r.pos };
}

/** Decodes a whole checkpoint into a tablet; values are copied out of `bytes`. */
export function decodeCheckpoint(bytes: Buffer): { header: CheckpointHeader; tablet: Tablet } {
  const { header, cellsOffset } = readCheckpointHeader(bytes);
  const r = new CheckpointReader(bytes, cellsOffset, bytes.length - CRC_BYTES);
  const tablet = new Tablet(header.start, header.end);
  for (let i = 0; i < header.cellCount; i++) {
    const row = r.key();
    const column = r.key();
    const n = r.u32();
    tablet.put(row, column, Buffer.from(r.take(n)));
  }
  if (r.pos !== bytes.length - CRC_BYTES) throw new CheckpointCorruptError('trailing bytes after the last cell');
  if (tablet.bytes !== header.bytes) {
    throw new CheckpointCorruptError(`accounted bytes ${tablet.bytes} differ from the header's ${header.bytes}`);
  }
  return { header, tablet };
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
