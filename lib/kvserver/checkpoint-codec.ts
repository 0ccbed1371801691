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

/** Encodes a snapshot of `tablet` as of `seq` into one buffer (a consistent copy). */
export function encodeCheckpoint(tablet: Tablet, seq: number): Buffer {
  const startBytes = Buffer.byteLength(tablet.start, 'utf8');
  const endBytes = tablet.end === null ? 0 : Buffer.byteLength(tablet.end, 'utf8');
  let size = MAGIC.length + 8 + 8 + 2 + startBytes + 1 + (tablet.end === null ? 0 : 2 + endBytes) + 4;
  let cellCount = 0;
  for (const [row, column, value] of tablet.cells()) {
    size += 2 + Buffer.byteLength(row, 'utf8') + 2 + Buffer.byteLength(column, 'utf8') + 4 + value.length;
    cellCount++;
  }
  size += CRC_BYTES;
  const out = Buffer.allocUnsafe(size);
  let pos = MAGIC.copy(out, 0);
  pos = out.writeBigUInt64BE(BigInt(seq), pos);
  pos = out.writeBigUInt64BE(BigInt(tablet.bytes), pos);
  const key = (s: string): void => {
    const n = out.write(s, pos + 2, 'utf8');
    out.writeUInt16BE(n, pos);
    pos += 2 + n;
  };
  key(tablet.start);
  out[pos++] = tablet.end === null ? 0 : 1;
  if (tablet.end !== null) key(tablet.end);
  pos = out.writeUInt32BE(cellCount, pos);
  for (const [row, column, value] of tablet.cells()) {
    key(row);
    key(column);
    pos = out.writeUInt32BE(value.length, pos);
    pos += value.copy(out, pos);
  }
  out.writeUInt32BE(crc32(out.subarray(0, pos)), pos);
  return out;
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
