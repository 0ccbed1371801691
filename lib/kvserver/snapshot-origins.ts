/**
 * The recent-origins table (client id, request id -> seq; recent-origins.ts) as bytes, so that
 * a snapshot carries it to a node catching up and that node keeps it across a restart: without
 * it, a client retrying a write the snapshot already holds would have it applied twice. Pure.
 *
 * Layout (big-endian):
 *   8-byte magic "PNCORIG1" | u64 seq (the snapshot point) | u32 count
 *   | count x (8-byte client id | u32 request id | u64 seq) | u32 CRC-32 of every byte before it
 */
import { crc32 } from 'node:zlib';
import { RecentOrigins } from './recent-origins.js';

const MAGIC = Buffer.from('PNCORIG1', 'latin1');
const ENTRY_BYTES = 8 + 4 + 8;
const HEAD_BYTES = MAGIC.length + 8 + 4;
const CRC_BYTES = 4;

/** An origins file or part that fails its checks; the caller adds which file or peer. */
export class OriginsCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OriginsCorruptError';
  }
}

/** One remembered origin: the request (client id, request id) and the seq of its write. */
export interface OriginEntry {
  clientId: string;
  requestId: number;
  seq: number;
}

function writeU64(out: Buffer, v: number, pos: number): number {
  out.writeUInt32BE(Math.floor(v / 0x1_0000_0000), pos);
  out.writeUInt32BE(v >>> 0, pos + 4);
  return pos + 8;
}

function readU64(bytes: Buffer, pos: number): number {
  const v = bytes.readUInt32BE(pos) * 0x1_0000_0000 + bytes.readUInt32BE(pos + 4);
  if (!Number.isSafeInteger(v)) throw new OriginsCorruptError('a 64-bit field is out of range');
  return v;
}

/** Encodes `entries` (oldest first) as of the snapshot point `seq`. */
export function encodeOrigins(entries: Iterable<OriginEntry>, seq: number): Buffer {
  const list = [...entries];
  const out = Buffer.allocUnsafe(HEAD_BYTES + list.length * ENTRY_BYTES + CRC_BYTES);
  let pos = MAGIC.copy(out, 0);
  pos = writeU64(out, seq, pos);
  pos = out.writeUInt32BE(list.length, pos);
  for (const e of list) {
    pos += out.write(e.clientId.padEnd(16, '0'), pos, 8, 'hex');
    pos = out.writeUInt32BE(e.requestId, pos);
    pos = writeU64(out, e.seq, pos);
  }
  out.writeUInt32BE(crc32(out.subarray(0, pos)), pos);
  return out;
}

/** Decodes and checks origins bytes; throws OriginsCorruptError. */
export function decodeOrigins(bytes: Buffer): { seq: number; entries: OriginEntry[] } {
  if (bytes.length < HEAD_BYTES + CRC_BYTES) throw new OriginsCorruptError(`too short (${bytes.length} bytes)`);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new OriginsCorruptError('bad magic');
  const bodyEnd = bytes.length - CRC_BYTES;
  if (crc32(bytes.subarray(0, bodyEnd)) !== bytes.readUInt32BE(bodyEnd)) throw new OriginsCorruptError('checksum mismatch');
  const seq = readU64(bytes, MAGIC.length);
  const count = bytes.readUInt32BE(MAGIC.length + 8);
  if (HEAD_BYTES + count * ENTRY_BYTES !== bodyEnd) throw new OriginsCorruptError(`${count} entries do not fill ${bodyEnd - HEAD_BYTES} bytes`);
  const entries: OriginEntry[] = [];
  for (let pos = HEAD_BYTES; pos < bodyEnd; pos += ENTRY_BYTES) {
    const e = { clientId: bytes.toString('hex', pos, pos + 8), requestId: bytes.readUInt32BE(pos + 8), seq: readU64(bytes, pos + 12) };
    if (e.seq > seq) throw new OriginsCorruptError(`an origin of seq ${e.seq} is after the snapshot point ${seq}`);
    entries.push(e);
  }
  return { seq, entries };
}

/** A table holding `entries`, oldest first, as the node had remembered them. */
export function originsFrom(entries: readonly OriginEntry[]): RecentOrigins {
  const origins = new RecentOrigins();
  for (const e of entries) {
    origins.remember({ seq: e.seq, view: 0, op: 'DELETE', row: '', column: '', clientId: e.clientId, requestId: e.requestId });
  }
  return origins;
}
