/**
 * The write-ahead log record: encode on append, decode and verify on replay. Pure.
 *
 * Layout (big-endian):
 *   u32 payload length | u32 CRC-32 of the payload | payload
 *   payload = u64 seq | u8 type | (types 3, 4) u32 view | 8-byte client id | u32 request id
 *             | u16 row length | row | u16 column length | column | (PUT) u32 value length | value
 * Types: 3 PUT, 4 DELETE and 5 SPLIT carry the view of the primary that sequenced the record
 * (format 2, written now); 1 PUT and 2 DELETE are format 1, written before replication, read as
 * view 0. A SPLIT names the row that starts a new tablet (its column is empty, its origin zero).
 * The origin (client id, request id) rides along so that a replica can recognise a retried
 * request it already applied; the view lets two replicas tell whether they hold the same
 * record at a seq (catch-up compares it).
 */
import { crc32 } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import type { KvLogRecord } from '../protocol/kv-peer-codec.js';

export const WAL_RECORD_PREFIX_BYTES = 8;
const TYPE_PUT_V1 = 1;
const TYPE_DELETE_V1 = 2;
const TYPE_PUT = 3;
const TYPE_DELETE = 4;
const TYPE_SPLIT = 5;
/** seq, type, view, client id, request id, two key lengths, value length. */
const PAYLOAD_FIXED_BYTES = 8 + 1 + 4 + 8 + 4 + 2 + 2 + 4;
/** The smallest payload of any format: a format-1 DELETE with empty keys. */
const PAYLOAD_BYTES_MIN = 8 + 1 + 8 + 4 + 2 + 2;

/** A logged write; the same record travels to the secondaries (see kv-peer-codec.ts). */
export type WalRecord = KvLogRecord;

/** Encodes a record as buffers for writev; the value is referenced, not copied. */
export function encodeWalRecord(record: WalRecord): Buffer[] {
  const rowBytes = Buffer.byteLength(record.row, 'utf8');
  const columnBytes = Buffer.byteLength(record.column, 'utf8');
  const headBytes = WAL_RECORD_PREFIX_BYTES + PAYLOAD_FIXED_BYTES + rowBytes + columnBytes;
  const head = Buffer.allocUnsafe(record.op === 'PUT' ? headBytes : headBytes - 4);
  let pos = WAL_RECORD_PREFIX_BYTES;
  head.writeUInt32BE(Math.floor(record.seq / 0x1_0000_0000), pos); // u64 as two halves: no BigInt
  head.writeUInt32BE(record.seq >>> 0, pos + 4);
  pos += 8;
  head[pos++] = record.op === 'PUT' ? TYPE_PUT : record.op === 'DELETE' ? TYPE_DELETE : TYPE_SPLIT;
  head.writeUInt32BE(record.view, pos);
  pos += 4;
  head.write(record.clientId.padEnd(16, '0'), pos, 8, 'hex');
  pos += 8;
  head.writeUInt32BE(record.requestId, pos);
  pos += 4;
  head.writeUInt16BE(rowBytes, pos);
  pos += 2 + head.write(record.row, pos + 2, 'utf8');
  head.writeUInt16BE(columnBytes, pos);
  pos += 2 + head.write(record.column, pos + 2, 'utf8');
  let payloadBytes = pos - WAL_RECORD_PREFIX_BYTES;
  let crc = 0;
  if (record.op === 'PUT') {
    head.writeUInt32BE(record.value.length, pos);
    pos += 4;
    payloadBytes += 4 + record.value.length;
    crc = crc32(record.value, crc32(head.subarray(WAL_RECORD_PREFIX_BYTES, pos)));
  } else {
    crc = crc32(head.subarray(WAL_RECORD_PREFIX_BYTES, pos));
  }
  head.writeUInt32BE(payloadBytes, 0);
  head.writeUInt32BE(crc, 4);
  return record.op === 'PUT' && record.value.length > 0 ? [head, record.value] : [head];
}

/** Total encoded size of a record. */
export function walRecordBytes(parts: readonly Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/**
 * Why decoding stopped: the clean end of the bytes, a record cut short, a bad checksum, or
 * (when the next seq is known) the unused rest of a segment (zeros laid down ahead of the
 * records, or a record of an older segment the file was before: its seq is lower) or a
 * record that skips seqs (`gap`).
 */
export type WalStop = 'end' | 'torn' | 'corrupt' | 'unused' | 'gap';

export interface WalDecodeResult {
  records: WalRecord[];
  /** Bytes from `offset` up to the end of the last good record. */
  goodBytes: number;
  stop: WalStop;
  /** What was wrong when stop is not 'end'. */
  problem: string;
}

/**
 * Decodes records from `offset` until the end of `bytes` or the first torn or corrupt record.
 * `payloadBytesMax` bounds a record so a corrupt length cannot ask for gigabytes. With
 * `nextSeq`, records must carry consecutive seqs from it: a lower one or zeros end the records
 * (`unused`), a higher one is a `gap`. Values are views into `bytes`. With `positions`, the
 * offset in `bytes` of each record returned is pushed onto it.
 */
export function decodeWalRecords(
  bytes: Buffer, offset: number, payloadBytesMax: number, nextSeq?: number, positions?: number[],
): WalDecodeResult {
  const records: WalRecord[] = [];
  let pos = offset;
  const result = (stop: WalStop, problem: string): WalDecodeResult =>
    ({ records, goodBytes: pos - offset, stop, problem });
  while (pos < bytes.length) {
    const left = bytes.length - pos;
    const payloadBytes = left < 4 ? 0 : bytes.readUInt32BE(pos);
    if (payloadBytes === 0 && nextSeq !== undefined && allZero(bytes, pos)) return result('unused', 'zeros after the last record');
    if (left < WAL_RECORD_PREFIX_BYTES) return result('torn', 'record header cut short');
    if (payloadBytes < PAYLOAD_BYTES_MIN || payloadBytes > payloadBytesMax) {
      return result('corrupt', `record length ${payloadBytes} is impossible`);
    }
    const end = pos + WAL_RECORD_PREFIX_BYTES + payloadBytes;
    if (end > bytes.length) return result('torn', 'record cut short');
    const payload = bytes.subarray(pos + WAL_RECORD_PREFIX_BYTES, end);
    if (crc32(payload) !== bytes.readUInt32BE(pos + 4)) return result('corrupt', 'record checksum mismatch');
    const record = decodeWalPayload(payload);
    if (record === null) return result('corrupt', 'record checksum matches but its fields do not parse');
    if (nextSeq !== undefined) {
      const expected = nextSeq + records.length;
      if (record.seq < expected) return result('unused', `a record of seq ${record.seq} from an older segment`);
      if (record.seq > expected) return result('gap', `record seq ${record.seq} where ${expected} was expected`);
    }
    records.push(record);
    positions?.push(pos);
    pos = end;
  }
  return result('end', '');
}

/** Whether every byte of `bytes` from `pos` on is zero. */
function allZero(bytes: Buffer, pos: number): boolean {
  for (let i = pos; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function decodeWalPayload(p: Buffer): WalRecord | null {
  let pos = 0;
  const seq = Number(p.readBigUInt64BE(pos));
  pos += 8;
  const type = p[pos++]!;
  let view = 0;
  if (type === TYPE_PUT || type === TYPE_DELETE || type === TYPE_SPLIT) {
    if (pos + 4 > p.length) return null;
    view = p.readUInt32BE(pos);
    pos += 4;
  }
  if (pos + 12 > p.length) return null;
  const clientId = p.toString('hex', pos, pos + 8);
  pos += 8;
  const requestId = p.readUInt32BE(pos);
  pos += 4;
  const readKey = (): string | null => {
    if (pos + 2 > p.length) return null;
    const n = p.readUInt16BE(pos);
    if (pos + 2 + n > p.length) return null;
    const bytes = p.subarray(pos + 2, pos + 2 + n);
    pos += 2 + n;
    return isUtf8(bytes) ? bytes.toString('utf8') : null;
  };
  const row = readKey();
  const column = readKey();
  if (row === null || column === null || !Number.isSafeInteger(seq)) return null;
  if (type === TYPE_DELETE || type === TYPE_DELETE_V1) {
    return pos === p.length ? { seq, view, op: 'DELETE', row, column, clientId, requestId } : null;
  }
  if (type === TYPE_SPLIT) {
    return pos === p.length && column === '' ? { seq, view, op: 'SPLIT', row, column, clientId, requestId } : null;
  }
  if ((type !== TYPE_PUT && type !== TYPE_PUT_V1) || pos + 4 > p.length) return null;
  const valueBytes = p.readUInt32BE(pos);
  pos += 4;
  if (pos + valueBytes !== p.length) return null;
  return { seq, view, op: 'PUT', row, column, value: p.subarray(pos), clientId, requestId };
}
