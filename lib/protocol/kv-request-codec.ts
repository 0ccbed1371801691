/**
 * Request frames: encode (client side) and decode (node side). Layout in docs/kv-protocol.md.
 */
import { BodyReader, FrameWriter, KvBodyError } from './kv-bytes.js';
import type { RawFrame } from './kv-frame-decoder.js';
import {
  KV_PROTOCOL_VERSION, KV_REQUEST_HEADER_BYTES, KvOp, keyBytes,
  type KvOpCode, type KvRequest, type KvRequestBody,
} from './kv-wire.js';

const OPCODE_BY_OP: Record<KvRequestBody['op'], KvOpCode> = {
  GET: KvOp.GET,
  PUT: KvOp.PUT,
  CPUT: KvOp.CPUT,
  DELETE: KvOp.DELETE,
  LIST_ROWS: KvOp.LIST_ROWS,
  LIST_COLUMNS: KvOp.LIST_COLUMNS,
  STATUS: KvOp.STATUS,
};

function keysBytesOf(body: KvRequestBody): number {
  switch (body.op) {
    case 'GET': case 'PUT': case 'CPUT': case 'DELETE':
      return keyBytes(body.row) + keyBytes(body.column);
    case 'LIST_ROWS':
      return keyBytes(body.tabletStart) + (body.after === null ? 0 : keyBytes(body.after));
    case 'LIST_COLUMNS':
      return keyBytes(body.row) + (body.after === null ? 0 : keyBytes(body.after));
    case 'STATUS':
      return 0;
  }
}

/**
 * Encodes a request as buffers for one writev. `clientId` is 8 bytes; keys must already have
 * passed checkKey (the encoder does not cut them).
 */
export function encodeRequest(body: KvRequestBody, requestId: number, clientId: Buffer): Buffer[] {
  const w = new FrameWriter(KV_REQUEST_HEADER_BYTES, keysBytesOf(body));
  w.u8(KV_PROTOCOL_VERSION).u8(OPCODE_BY_OP[body.op]).u16(0).u32(requestId).raw(clientId);
  switch (body.op) {
    case 'GET':
    case 'DELETE':
      w.key(body.row).key(body.column);
      break;
    case 'PUT':
      w.key(body.row).key(body.column).value(body.value);
      break;
    case 'CPUT':
      w.key(body.row).key(body.column);
      if (body.expected.kind === 'absent') w.u8(0);
      else w.u8(1).value(body.expected.value);
      w.value(body.value);
      break;
    case 'LIST_ROWS':
      w.key(body.tabletStart).optionalKey(body.after).u32(body.limit);
      break;
    case 'LIST_COLUMNS':
      w.key(body.row).optionalKey(body.after).u32(body.limit);
      break;
    case 'STATUS':
      break;
  }
  return w.finish();
}

/** Decodes the body of a request frame. Throws KvBodyError (answered BAD_REQUEST). */
export function decodeRequest(frame: RawFrame): KvRequest {
  const r = new BodyReader(frame.bytes, frame.bodyOffset);
  const origin = { clientId: frame.clientId, requestId: frame.requestId };
  let body: KvRequestBody;
  switch (frame.kind) {
    // The hot requests are built whole, origin included, so that each keeps one shape.
    case KvOp.GET: {
      const request: KvRequest = { op: 'GET', row: r.key('row'), column: r.key('column'), origin };
      r.end();
      return request;
    }
    case KvOp.DELETE:
      body = { op: 'DELETE', row: r.key('row'), column: r.key('column') };
      break;
    case KvOp.PUT: {
      const request: KvRequest = { op: 'PUT', row: r.key('row'), column: r.key('column'), value: r.value('value'), origin };
      r.end();
      return request;
    }
    case KvOp.CPUT: {
      const row = r.key('row');
      const column = r.key('column');
      const expected = r.flag('expected-value flag')
        ? { kind: 'value' as const, value: r.value('expected value') }
        : { kind: 'absent' as const };
      body = { op: 'CPUT', row, column, expected, value: r.value('value') };
      break;
    }
    case KvOp.LIST_ROWS:
      body = { op: 'LIST_ROWS', tabletStart: r.key('tablet start'), after: r.optionalKey('after'), limit: r.u32('limit') };
      break;
    case KvOp.LIST_COLUMNS:
      body = { op: 'LIST_COLUMNS', row: r.key('row'), after: r.optionalKey('after'), limit: r.u32('limit') };
      break;
    case KvOp.STATUS:
      body = { op: 'STATUS' };
      break;
    default:
      throw new KvBodyError(`unknown opcode 0x${frame.kind.toString(16)}`);
  }
  r.end();
  const request = body as KvRequest;
  request.origin = origin;
  return request;
}
