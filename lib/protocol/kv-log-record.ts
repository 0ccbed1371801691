/**
 * One log record in bytes: what the write-ahead log holds (lib/kvserver/wal-record.ts reads
 * segments of them) and what REPLICATE carries between the nodes of a group, byte for byte, so
 * that a secondary logs the primary's bytes as they came instead of encoding the record again.
 * Pure.
 *
 * Layout (big-endian):
 *   u32 payload length | u32 CRC-32 of the payload | payload
 *   payload = u64 seq | u8 type | (types 3, 4, 5) u32 view | 8-byte client id | u32 request id
 *             | u16 row length | row | u16 column length | column | (PUT) u32 value length | value
 * Types: 3 PUT, 4 DELETE and 5 SPLIT carry the view of the primary that sequenced the record
 * (format 2, written now); 1 PUT and 2 DELETE are format 1, written before replication, read as
 * view 0. A SPLIT names the row that starts a new tablet (its column is empty, its origin zero).
 * The origin (client id, request id) rides along so that a replica can recognise a retried
 * request it already applied; the view lets two replicas tell whether they hold the same
 * record at a seq (catch-up compares it).
 */
import { crc32 } from 'node:zlib';
import { readClientId, readUtf8, utf8Length, writeClientId, writeUtf8 } from './short-strings.js';

/**
 * A record as the log holds it and as replication carries it: a write, or a split the primary
 * decided (the tablet holding `row` splits so that `row` starts a new tablet; no column, no
 * origin), so that every copy of a group splits at the same row and the same point of the log.
 */
export type KvLogRecord =
  | { seq: number; view: number; op: 'PUT'; row: string; column: string; value: Buffer; clientId: string; requestId: number }
  | { seq: number; view: number; op: 'DELETE'; row: string; column: string; clientId: string; requestId: number }
  | { seq: number; view: number; op: 'SPLIT'; row: string; column: ''; clientId: string; requestId: number };

/** A record with its bytes (the buffers of its encoding, in order). */
export interface EncodedLogRecord {
  record: KvLogRecord;
  encoded: Buffer[];
}

/** Payload length and CRC-32 before every payload. */
export const LOG_RECORD_PREFIX_BYTES = 8;

const TYPE_PUT_V1 = 1;
const TYPE_DELETE_V1 = 2;
const TYPE_PUT = 3;
const TYPE_DELETE = 4;
const TYPE_SPLIT = 5;
/** seq, type, view, client id, request id, two key lengths, value length. */
const PAYLOAD_FIXED_BYTES = 8 + 1 + 4 + 8 + 4 + 2 + 2 + 4;
/** The smallest payload of any format: a format-1 DELETE with empty keys. */
export const LOG_PAYLOAD_BYTES_MIN = 8 + 1 + 8 + 4 + 2 + 2;
/**
 * A PUT value up to this size is copied in behind the record's fields: one buffer and one
 * checksum pass per record. Longer ones (file chunks) stay buffers of their own, referenced.
 */
const INLINE_VALUE_BYTES_MAX = 1024;

/**
 * Encodes a record: one buffer, or (a PUT with a long value) the fields and then the value
 * itself, referenced, not copied.
 */
export function encodeLogRecord(record: KvLogRecord): Buffer[] {
  const rowBytes = utf8Length(record.row);
  const columnBytes = utf8Length(record.column);
  const fieldsBytes = LOG_RECORD_PREFIX_BYTES + PAYLOAD_FIXED_BYTES + rowBytes + columnBytes - (record.op === 'PUT' ? 0 : 4);
  const value = record.op === 'PUT' ? record.value : null;
  const inline = value !== null && value.length <= INLINE_VALUE_BYTES_MAX;
  const head = Buffer.allocUnsafe(inline ? fieldsBytes + value.length : fieldsBytes);
  let pos = LOG_RECORD_PREFIX_BYTES;
  head.writeUInt32BE(Math.floor(record.seq / 0x1_0000_0000), pos); // u64 as two halves: no BigInt
  head.writeUInt32BE(record.seq >>> 0, pos + 4);
  pos += 8;
  head[pos++] = record.op === 'PUT' ? TYPE_PUT : record.op === 'DELETE' ? TYPE_DELETE : TYPE_SPLIT;
  head.writeUInt32BE(record.view, pos);
  pos += 4;
  writeClientId(head, pos, record.clientId);
  pos += 8;
  head.writeUInt32BE(record.requestId, pos);
  pos += 4;
  head.writeUInt16BE(rowBytes, pos);
  pos = writeUtf8(head, pos + 2, record.row, rowBytes);
  head.writeUInt16BE(columnBytes, pos);
  pos = writeUtf8(head, pos + 2, record.column, columnBytes);
  let crc: number;
  let parts: Buffer[];
  let payloadBytes: number;
  if (value === null) {
    payloadBytes = pos - LOG_RECORD_PREFIX_BYTES;
    crc = crc32(head.subarray(LOG_RECORD_PREFIX_BYTES, pos));
    parts = [head];
  } else {
    head.writeUInt32BE(value.length, pos);
    pos += 4;
    payloadBytes = pos - LOG_RECORD_PREFIX_BYTES + value.length;
    if (inline) {
      value.copy(head, pos);
      crc = crc32(head.subarray(LOG_RECORD_PREFIX_BYTES, pos + value.length));
      parts = [head];
    } else {
      crc = crc32(value, crc32(head.subarray(LOG_RECORD_PREFIX_BYTES, pos)));
      parts = [head, value];
    }
  }
  head.writeUInt32BE(payloadBytes, 0);
  head.writeUInt32BE(crc, 4);
  return parts;
}

/**
 * The record starting at `pos` of `bytes`, checked: its length within `payloadBytesMax` and
 * the bytes at hand, its checksum, its fields. A string saying what is wrong otherwise:
 * `torn` when the bytes end inside it, `corrupt` when they are wrong.
 */
export function decodeLogRecord(bytes: Buffer, pos: number, payloadBytesMax: number):
  { record: KvLogRecord; end: number } | { problem: string; torn: boolean } {
  const left = bytes.length - pos;
  if (left < LOG_RECORD_PREFIX_BYTES) return { problem: 'record header cut short', torn: true };
  const payloadBytes = bytes.readUInt32BE(pos);
  if (payloadBytes < LOG_PAYLOAD_BYTES_MIN || payloadBytes > payloadBytesMax) {
    return { problem: `record length ${payloadBytes} is impossible`, torn: false };
  }
  const end = pos + LOG_RECORD_PREFIX_BYTES + payloadBytes;
  if (end > bytes.length) return { problem: 'record cut short', torn: true };
  const payload = bytes.subarray(pos + LOG_RECORD_PREFIX_BYTES, end);
  if (crc32(payload) !== bytes.readUInt32BE(pos + 4)) return { problem: 'record checksum mismatch', torn: false };
  const record = decodePayload(payload);
  if (record === null) return { problem: 'record checksum matches but its fields do not parse', torn: false };
  return { record, end };
}

function decodePayload(p: Buffer): KvLogRecord | null {
  let pos = 0;
  const seq = p.readUInt32BE(0) * 0x1_0000_0000 + p.readUInt32BE(4);
  pos += 8;
  const type = p[pos++]!;
  let view = 0;
  if (type === TYPE_PUT || type === TYPE_DELETE || type === TYPE_SPLIT) {
    if (pos + 4 > p.length) return null;
    view = p.readUInt32BE(pos);
    pos += 4;
  }
  if (pos + 12 > p.length) return null;
  const clientId = readClientId(p, pos);
  pos += 8;
  const requestId = p.readUInt32BE(pos);
  pos += 4;
  const readKey = (): string | null => {
    if (pos + 2 > p.length) return null;
    const n = p.readUInt16BE(pos);
    if (pos + 2 + n > p.length) return null;
    const start = pos + 2;
    pos = start + n;
    return readUtf8(p, start, pos);
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
