/**
 * The KV wire protocol: opcodes, reply statuses, the request and reply types and the limits
 * shared by the node (lib/kvserver) and the client (lib/kvclient). The byte layout lives in
 * kv-frame-decoder.ts (frames), kv-request-codec.ts and kv-reply-codec.ts (their bodies), and
 * is documented in docs/kv-protocol.md.
 */
import { utf8Length } from './short-strings.js';

/** Version byte of every frame; a frame with another version closes the connection. */
export const KV_PROTOCOL_VERSION = 1;

/** Longest row or column name, in UTF-8 bytes (a u16 length on the wire). */
export const KV_KEY_BYTES_MAX = 4096;

/** Most entries one ROWS or COLUMNS page carries; a larger requested limit is clamped. */
export const KV_LIST_PAGE_MAX = 1000;

/** Longest error message carried in a reply, in UTF-8 bytes; longer ones are cut. */
export const KV_MESSAGE_BYTES_MAX = 1024;

/** Request and reply header: u32 length, u8 version, u8 kind, u16 flags, u32 request id. */
export const KV_HEADER_BYTES = 12;

/** A request frame adds an 8-byte client id after the common header. */
export const KV_REQUEST_HEADER_BYTES = KV_HEADER_BYTES + 8;

/** Room for everything in a frame that is not a value: header, keys, flags, lengths. */
export const KV_FRAME_OVERHEAD_BYTES = KV_REQUEST_HEADER_BYTES + 2 * (2 + KV_KEY_BYTES_MAX) + 64;

/**
 * Largest frame a peer accepts when values may be `valueBytesMax` long: a CPUT carries two
 * values. A frame announcing more is answered TOO_LARGE and the connection is closed, because
 * the stream cannot be trusted past a length we refuse to read.
 */
export function kvFrameBytesMax(valueBytesMax: number): number {
  return 2 * valueBytesMax + KV_FRAME_OVERHEAD_BYTES;
}

/** Request opcodes (the kind byte of a request frame). */
export const KvOp = {
  GET: 0x01,
  PUT: 0x02,
  CPUT: 0x03,
  DELETE: 0x04,
  LIST_ROWS: 0x05,
  LIST_COLUMNS: 0x06,
  STATUS: 0x07,
  /** Peer messages between the nodes of a group (kv-peer-codec.ts); never answered. */
  REPLICATE: 0x20,
  PROBE: 0x21,
  ACK: 0x22,
  REFUSE: 0x23,
  CATCH_UP: 0x24,
} as const;
export type KvOpCode = (typeof KvOp)[keyof typeof KvOp];

/** Reply statuses (the kind byte of a reply frame). */
export const KvStatus = {
  OK: 0x00,
  VALUE: 0x01,
  NOT_FOUND: 0x02,
  CPUT_MISMATCH: 0x03,
  WRONG_TABLET: 0x04,
  TOO_LARGE: 0x05,
  BAD_REQUEST: 0x06,
  UNAVAILABLE: 0x07,
  ROWS: 0x08,
  COLUMNS: 0x09,
  STATUS: 0x0a,
  INTERNAL: 0x0b,
  NOT_PRIMARY: 0x0c,
} as const;
export type KvStatusCode = (typeof KvStatus)[keyof typeof KvStatus];

/** Who sent a request: a client id (8 random bytes as hex) and its request id. */
export interface KvOrigin {
  clientId: string;
  requestId: number;
}

/** What a CPUT compares against: a value, or absence (create-if-absent). */
export type KvExpected = { kind: 'absent' } | { kind: 'value'; value: Buffer };

export type KvRequestBody =
  | { op: 'GET'; row: string; column: string }
  | { op: 'PUT'; row: string; column: string; value: Buffer }
  | { op: 'CPUT'; row: string; column: string; expected: KvExpected; value: Buffer }
  | { op: 'DELETE'; row: string; column: string }
  | { op: 'LIST_ROWS'; tabletStart: string; after: string | null; limit: number }
  | { op: 'LIST_COLUMNS'; row: string; after: string | null; limit: number }
  | { op: 'STATUS' };

export type KvRequest = KvRequestBody & { origin: KvOrigin };

/** One column of a COLUMNS page: its name and the size of its value. */
export interface KvColumnEntry {
  column: string;
  valueBytes: number;
}

/** What STATUS reports about one tablet. */
export interface KvTabletStatus {
  start: string;
  /** Exclusive end, or null for the last tablet of the key space. */
  end: string | null;
  loaded: boolean;
  /** Accounted bytes (keys, values and per-entry overhead), known even when not loaded. */
  bytes: number;
  checkpointSeq: number;
}

/** The STATUS reply: carried as UTF-8 JSON (it is small and not on a hot path). */
export interface KvNodeStatus {
  nodeId: number;
  tablets: KvTabletStatus[];
  memoryBytes: number;
  memoryBudgetBytes: number;
  log: { bytes: number; segments: number; firstSeq: number; lastSeq: number; durableSeq: number };
  lastCheckpoint: { seq: number; atMs: number; tabletStart: string } | null;
  /** Per-entry overhead counted for every cell, and for every row, by the memory accounting. */
  accounting: { cellOverheadBytes: number; rowOverheadBytes: number };
}

export type KvReplyBody =
  | { status: 'OK' }
  | { status: 'VALUE'; value: Buffer }
  | { status: 'NOT_FOUND' }
  | { status: 'CPUT_MISMATCH'; current: Buffer | null }
  | { status: 'WRONG_TABLET'; message: string }
  | { status: 'TOO_LARGE'; message: string }
  | { status: 'BAD_REQUEST'; message: string }
  | { status: 'UNAVAILABLE'; message: string }
  | { status: 'INTERNAL'; message: string }
  /** This node is not the primary of its group now; `primary` is the one it knows, or null. */
  | { status: 'NOT_PRIMARY'; primary: number | null; message: string }
  | { status: 'ROWS'; rows: string[]; end: string | null; more: boolean }
  | { status: 'COLUMNS'; columns: KvColumnEntry[]; more: boolean }
  | { status: 'STATUS'; node: KvNodeStatus };

export type KvReply = KvReplyBody & { requestId: number };

/** Reply statuses that only carry a message. */
export type KvErrorStatus = 'WRONG_TABLET' | 'NOT_PRIMARY' | 'TOO_LARGE' | 'BAD_REQUEST' | 'UNAVAILABLE' | 'INTERNAL';

/** The byte length of a key as the wire and the accounting count it. */
export function keyBytes(key: string): number {
  return utf8Length(key);
}

/** A UTF-16 surrogate without its pair: it cannot be encoded in UTF-8 and back unchanged. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Keys this short cannot pass KV_KEY_BYTES_MAX in UTF-8 (3 bytes per UTF-16 unit at most). */
const KEY_LENGTH_ALWAYS_FITS = Math.floor(KV_KEY_BYTES_MAX / 3);
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/** The reason a row or column name is unusable, or null when it is fine. */
export function checkKey(key: string, what: 'row' | 'column'): string | null {
  if (key.length <= KEY_LENGTH_ALWAYS_FITS && !ANY_SURROGATE.test(key)) return null; // the common case, cheaply
  if (LONE_SURROGATE.test(key)) return `${what} name is not valid Unicode (lone surrogate)`;
  if (keyBytes(key) > KV_KEY_BYTES_MAX) return `${what} name is longer than ${KV_KEY_BYTES_MAX} bytes`;
  return null;
}
