/**
 * Reply frames: encode (node side) and decode (client side). Layout in docs/kv-protocol.md.
 */
import { BodyReader, FrameWriter, KvBodyError } from './kv-bytes.js';
import type { RawFrame } from './kv-frame-decoder.js';
import {
  KV_HEADER_BYTES, KV_MESSAGE_BYTES_MAX, KV_PROTOCOL_VERSION, KvStatus, keyBytes,
  type KvNodeStatus, type KvReply, type KvReplyBody, type KvStatusCode,
} from './kv-wire.js';

const STATUS_BY_NAME: Record<KvReplyBody['status'], KvStatusCode> = {
  OK: KvStatus.OK,
  VALUE: KvStatus.VALUE,
  NOT_FOUND: KvStatus.NOT_FOUND,
  CPUT_MISMATCH: KvStatus.CPUT_MISMATCH,
  WRONG_TABLET: KvStatus.WRONG_TABLET,
  TOO_LARGE: KvStatus.TOO_LARGE,
  BAD_REQUEST: KvStatus.BAD_REQUEST,
  UNAVAILABLE: KvStatus.UNAVAILABLE,
  INTERNAL: KvStatus.INTERNAL,
  NOT_PRIMARY: KvStatus.NOT_PRIMARY,
  ROWS: KvStatus.ROWS,
  COLUMNS: KvStatus.COLUMNS,
  STATUS: KvStatus.STATUS,
};

/** The primary field of NOT_PRIMARY when the node knows of no primary. */
const NO_PRIMARY = 0xffff_ffff;

function keysBytesOf(body: KvReplyBody): number {
  switch (body.status) {
    case 'WRONG_TABLET': case 'TOO_LARGE': case 'BAD_REQUEST': case 'UNAVAILABLE': case 'INTERNAL': case 'NOT_PRIMARY':
      return Math.min(keyBytes(body.message), KV_MESSAGE_BYTES_MAX);
    case 'ROWS': {
      let n = body.end === null ? 0 : keyBytes(body.end) + 2;
      for (const row of body.rows) n += keyBytes(row) + 2;
      return n;
    }
    case 'COLUMNS': {
      let n = 0;
      for (const c of body.columns) n += keyBytes(c.column) + 6;
      return n;
    }
    default:
      return 0;
  }
}

/** Encodes a reply as buffers for one writev; a value is referenced, not copied. */
export function encodeReply(body: KvReplyBody, requestId: number): Buffer[] {
  if (body.status === 'OK' || body.status === 'NOT_FOUND') {
    // A header alone: the reply of every write.
    const frame = Buffer.allocUnsafe(KV_HEADER_BYTES);
    frame.writeUInt32BE(KV_HEADER_BYTES - 4, 0);
    frame[4] = KV_PROTOCOL_VERSION;
    frame[5] = STATUS_BY_NAME[body.status];
    frame.writeUInt16BE(0, 6);
    frame.writeUInt32BE(requestId, 8);
    return [frame];
  }
  const w = new FrameWriter(KV_HEADER_BYTES, keysBytesOf(body));
  w.u8(KV_PROTOCOL_VERSION).u8(STATUS_BY_NAME[body.status]).u16(0).u32(requestId);
  switch (body.status) {
    case 'VALUE':
      w.value(body.value);
      break;
    case 'CPUT_MISMATCH':
      if (body.current === null) w.u8(0);
      else w.u8(1).value(body.current);
      break;
    case 'WRONG_TABLET':
    case 'TOO_LARGE':
    case 'BAD_REQUEST':
    case 'UNAVAILABLE':
    case 'INTERNAL':
      w.message(body.message);
      break;
    case 'NOT_PRIMARY':
      w.u32(body.primary === null ? NO_PRIMARY : body.primary).message(body.message);
      break;
    case 'ROWS':
      w.u8(body.more ? 1 : 0).optionalKey(body.end).u32(body.rows.length);
      for (const row of body.rows) w.key(row);
      break;
    case 'COLUMNS':
      w.u8(body.more ? 1 : 0).u32(body.columns.length);
      for (const c of body.columns) w.key(c.column).u32(c.valueBytes);
      break;
    case 'STATUS':
      w.value(Buffer.from(JSON.stringify(body.node), 'utf8'));
      break;
  }
  return w.finish();
}

/** Decodes the body of a reply frame. Throws KvBodyError when it is malformed. */
export function decodeReply(frame: RawFrame): KvReply {
  const r = new BodyReader(frame.bytes, frame.bodyOffset);
  const body = decodeReplyBody(frame.kind, r);
  r.end();
  const reply = body as KvReply;
  reply.requestId = frame.requestId;
  return reply;
}

function decodeReplyBody(kind: number, r: BodyReader): KvReplyBody {
  switch (kind) {
    case KvStatus.OK: return { status: 'OK' };
    case KvStatus.NOT_FOUND: return { status: 'NOT_FOUND' };
    case KvStatus.VALUE: return { status: 'VALUE', value: r.value('value') };
    case KvStatus.CPUT_MISMATCH:
      return { status: 'CPUT_MISMATCH', current: r.flag('current flag') ? r.value('current value') : null };
    case KvStatus.WRONG_TABLET: return { status: 'WRONG_TABLET', message: r.message() };
    case KvStatus.TOO_LARGE: return { status: 'TOO_LARGE', message: r.message() };
    case KvStatus.BAD_REQUEST: return { status: 'BAD_REQUEST', message: r.message() };
    case KvStatus.UNAVAILABLE: return { status: 'UNAVAILABLE', message: r.message() };
    case KvStatus.INTERNAL: return { status: 'INTERNAL', message: r.message() };
    case KvStatus.NOT_PRIMARY: {
      const primary = r.u32('primary');
      return { status: 'NOT_PRIMARY', primary: primary === NO_PRIMARY ? null : primary, message: r.message() };
    }
    case KvStatus.ROWS: {
      const more = r.flag('more flag');
      const end = r.optionalKey('tablet end');
      const count = r.u32('row count');
      const rows: string[] = [];
      for (let i = 0; i < count; i++) rows.push(r.key('row'));
      return { status: 'ROWS', rows, end, more };
    }
    case KvStatus.COLUMNS: {
      const more = r.flag('more flag');
      const count = r.u32('column count');
      const columns = [];
      for (let i = 0; i < count; i++) columns.push({ column: r.key('column'), valueBytes: r.u32('value size') });
      return { status: 'COLUMNS', columns, more };
    }
    case KvStatus.STATUS: {
      const text = r.value('status document').toString('utf8');
      try {
        return { status: 'STATUS', node: JSON.parse(text) as KvNodeStatus };
      } catch {
        throw new KvBodyError('status document is not valid JSON');
      }
    }
    default:
      throw new KvBodyError(`unknown reply status 0x${kind.toString(16)}`);
  }
}
