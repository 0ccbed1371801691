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
import { isUtf8 } from 'node:buffer';
import { crc32 } from 'node:zlib';

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

// Keys are mostly short and ASCII: written and read a byte at a time they skip a call into
// the runtime each (about a tenth of a microsecond), which every record paid several times.

/** Keys up to this many characters are scanned for the ASCII paths. */
const SHORT_KEY_CHARS = 64;

/** ASCII keys up to this long are built a character at a time (V8 keeps them flat). */
const SHORT_STRING_CHARS = 12;

/** UTF-8 length of `s`. */
function utf8Length(s: string): number {
  if (s.length > SHORT_KEY_CHARS) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** Writes `s` (`bytes` long in UTF-8) at `pos`; the position after it. */
function writeUtf8(buf: Buffer, pos: number, s: string, bytes: number): number {
  if (bytes === s.length && bytes <= SHORT_KEY_CHARS) {
    for (let i = 0; i < bytes; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + bytes;
  }
  return pos + buf.write(s, pos, 'utf8');
}

/** The key in `p` from `start` to `end`, or null when it is not UTF-8. */
function readUtf8(p: Buffer, start: number, end: number): string | null {
  if (end - start <= SHORT_KEY_CHARS) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (p[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      if (end - start > SHORT_STRING_CHARS) return p.toString('latin1', start, end);
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(p[i]!);
      return s;
    }
  }
  const bytes = p.subarray(start, end);
  return isUtf8(bytes) ? bytes.toString('utf8') : null;
}

/** Value of each hex digit by character code; -1 for any other character. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[0x41 + i] = 10 + i;
  HEX_VALUE[0x61 + i] = 10 + i;
}

/** Two hex digits per byte value. */
const HEX_PAIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The 8-byte client id at `pos` as 16 hex digits. */
function readClientId(p: Buffer, pos: number): string {
  return HEX_PAIRS[p[pos]!]! + HEX_PAIRS[p[pos + 1]!]! + HEX_PAIRS[p[pos + 2]!]! + HEX_PAIRS[p[pos + 3]!]!
    + HEX_PAIRS[p[pos + 4]!]! + HEX_PAIRS[p[pos + 5]!]! + HEX_PAIRS[p[pos + 6]!]! + HEX_PAIRS[p[pos + 7]!]!;
}

/** The 8-byte client id from its 16 hex digits (a shorter id is padded with zeros). */
function writeClientId(buf: Buffer, pos: number, clientId: string): void {
  if (clientId.length === 16) {
    let ok = true;
    for (let i = 0; i < 8; i++) {
      const high = HEX_VALUE[clientId.charCodeAt(2 * i) & 0x7f]!;
      const low = HEX_VALUE[clientId.charCodeAt(2 * i + 1) & 0x7f]!;
      if (high < 0 || low < 0 || clientId.charCodeAt(2 * i) >= 0x80 || clientId.charCodeAt(2 * i + 1) >= 0x80) {
        ok = false;
        break;
      }
      buf[pos + i] = (high << 4) | low;
    }
    if (ok) return;
  }
  buf.write(clientId.padEnd(16, '0'), pos, 8, 'hex');
}
