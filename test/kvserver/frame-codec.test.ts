import { expect } from 'chai';
import { KvBodyError } from '../../lib/protocol/kv-bytes.js';
import { KvFrameDecoder, KvFrameError } from '../../lib/protocol/kv-frame-decoder.js';
import { decodeReply, encodeReply } from '../../lib/protocol/kv-reply-codec.js';
import { decodePeerMessage, encodePeerMessage, encodeReplicate, type PeerMessage } from '../../lib/protocol/kv-peer-codec.js';
import { encodeLogRecord, type KvLogRecord } from '../../lib/protocol/kv-log-record.js';
import { decodeRequest, encodeRequest } from '../../lib/protocol/kv-request-codec.js';
import { kvFrameBytesMax, type KvReplyBody, type KvRequestBody } from '../../lib/protocol/kv-wire.js';

const CLIENT_ID = Buffer.from('0102030405060708', 'hex');
const FRAME_MAX = kvFrameBytesMax(1024 * 1024);
const binary = Buffer.from(Array.from({ length: 256 }, (_v, i) => i));

const REQUESTS: KvRequestBody[] = [
  { op: 'GET', row: 'row', column: 'col' },
  { op: 'GET', row: '', column: 'é ☃ 𝄞' },
  { op: 'PUT', row: 'r', column: 'c', value: binary },
  { op: 'PUT', row: 'r', column: 'c', value: Buffer.alloc(0) },
  { op: 'CPUT', row: 'r', column: 'c', expected: { kind: 'absent' }, value: Buffer.from('new') },
  { op: 'CPUT', row: 'r', column: 'c', expected: { kind: 'value', value: binary }, value: Buffer.from('new') },
  { op: 'DELETE', row: 'r', column: 'c' },
  { op: 'LIST_ROWS', tabletStart: '', after: null, limit: 10 },
  { op: 'LIST_ROWS', tabletStart: 'h', after: 'hello', limit: 1000 },
  { op: 'LIST_COLUMNS', row: 'r', after: 'c', limit: 5 },
  { op: 'STATUS' },
];

const REPLIES: KvReplyBody[] = [
  { status: 'OK' },
  { status: 'VALUE', value: binary },
  { status: 'VALUE', value: Buffer.alloc(0) },
  { status: 'NOT_FOUND' },
  { status: 'CPUT_MISMATCH', current: null },
  { status: 'CPUT_MISMATCH', current: Buffer.from('x') },
  { status: 'WRONG_TABLET', message: 'node 1 does not serve row "z"' },
  { status: 'TOO_LARGE', message: 'too big' },
  { status: 'BAD_REQUEST', message: 'bad' },
  { status: 'UNAVAILABLE', message: 'later' },
  { status: 'INTERNAL', message: 'oops' },
  { status: 'NOT_PRIMARY', primary: 2, message: 'node 0 is not the primary of group 0' },
  { status: 'NOT_PRIMARY', primary: null, message: 'no primary known' },
  { status: 'ROWS', rows: ['a', 'b', 'ç'], end: 'h', more: true },
  { status: 'ROWS', rows: [], end: null, more: false },
  { status: 'COLUMNS', columns: [{ column: 'x', valueBytes: 3 }, { column: 'y', valueBytes: 0 }], more: false },
];

function frameOf(parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

describe('kv frame codec', () => {
  for (const body of REQUESTS) {
    it(`round-trips a ${body.op} request byte by byte`, () => {
      const bytes = frameOf(encodeRequest(body, 77, CLIENT_ID));
      const decoder = new KvFrameDecoder('request', FRAME_MAX);
      const frames = [];
      for (let i = 0; i < bytes.length; i++) frames.push(...decoder.push(bytes.subarray(i, i + 1)));
      expect(frames).to.have.length(1);
      const decoded = decodeRequest(frames[0]!);
      expect(decoded).to.deep.equal({ ...body, origin: { clientId: '0102030405060708', requestId: 77 } });
    });
  }

  for (const body of REPLIES) {
    it(`round-trips a ${body.status} reply`, () => {
      const decoder = new KvFrameDecoder('reply', FRAME_MAX);
      const frames = decoder.push(frameOf(encodeReply(body, 0xfffffffe)));
      expect(frames).to.have.length(1);
      expect(decodeReply(frames[0]!)).to.deep.equal({ ...body, requestId: 0xfffffffe });
    });
  }

  it('cuts many pipelined frames out of one chunk, and one frame out of many chunks', () => {
    const all = Buffer.concat(REQUESTS.map((b, i) => frameOf(encodeRequest(b, i, CLIENT_ID))));
    const decoder = new KvFrameDecoder('request', FRAME_MAX);
    const ids = decoder.push(all).map((f) => decodeRequest(f).origin.requestId);
    expect(ids).to.deep.equal(REQUESTS.map((_b, i) => i));
    expect(decoder.pendingBytes).to.equal(0);
    const split = new KvFrameDecoder('request', FRAME_MAX);
    expect(split.push(all.subarray(0, 7))).to.deep.equal([]);
    expect(split.push(all.subarray(7)).length).to.equal(REQUESTS.length);
  });

  it('pushCopy: frames come out whole and intact from a read buffer that is overwritten after every call', () => {
    const replies: KvReplyBody[] = [
      { status: 'VALUE', value: Buffer.alloc(300_000, 7) },
      { status: 'OK' },
      { status: 'VALUE', value: binary },
      { status: 'NOT_FOUND' },
      { status: 'VALUE', value: Buffer.alloc(70_000, 9) },
    ];
    const all = Buffer.concat(replies.map((b, i) => frameOf(encodeReply(b, i))));
    for (const readBytes of [1, 5, 11, 4096, 65_536, all.length]) {
      const decoder = new KvFrameDecoder('reply', FRAME_MAX);
      const reused = Buffer.alloc(readBytes);
      const frames = [];
      for (let at = 0; at < all.length; at += readBytes) {
        const n = all.copy(reused, 0, at, at + readBytes);
        frames.push(...decoder.pushCopy(reused.subarray(0, n)));
        reused.fill(0xee); // the socket's next read lands here
      }
      expect(frames.map((f) => decodeReply(f)), `reads of ${readBytes} bytes`).to.deep.equal(replies.map((b, i) => ({ ...b, requestId: i })));
      expect(decoder.pendingBytes).to.equal(0);
    }
    const garbage = frameOf(encodeReply({ status: 'OK' }, 1));
    garbage[4] = 9;
    const decoder = new KvFrameDecoder('reply', FRAME_MAX);
    expect(decoder.pushCopy(Buffer.concat([frameOf(encodeReply({ status: 'OK' }, 0)), garbage]))).to.have.length(1);
    expect(decoder.error).to.be.instanceOf(KvFrameError);
  });

  it('rejects a wrong version, set flags and an absurd length as stream garbage', () => {
    const good = frameOf(encodeRequest({ op: 'STATUS' }, 5, CLIENT_ID));
    const cases: [string, (b: Buffer) => void, boolean][] = [
      ['version', (b) => { b[4] = 9; }, false],
      ['flags', (b) => { b.writeUInt16BE(1, 6); }, false],
      ['short length', (b) => { b.writeUInt32BE(3, 0); }, false],
      ['absurd length', (b) => { b.writeUInt32BE(0xfffffff0, 0); }, true],
    ];
    for (const [name, spoil, tooLarge] of cases) {
      const bytes = Buffer.from(good);
      spoil(bytes);
      const decoder = new KvFrameDecoder('request', FRAME_MAX);
      // A good frame before the garbage still comes out; nothing after it does.
      expect(decoder.push(Buffer.concat([good, bytes, good])), name).to.have.length(1);
      const caught = decoder.error;
      expect(caught, name).to.be.instanceOf(KvFrameError);
      expect((caught as KvFrameError).tooLarge, name).to.equal(tooLarge);
      expect((caught as KvFrameError).requestId, name).to.equal(5);
    }
  });

  it('rejects a malformed body as a bad request without losing the framing', () => {
    const put = frameOf(encodeRequest({ op: 'PUT', row: 'r', column: 'c', value: Buffer.from('v') }, 1, CLIENT_ID));
    const unknown = Buffer.from(put);
    unknown[5] = 0x7f;
    const trailing = Buffer.concat([put, Buffer.from([0])]);
    trailing.writeUInt32BE(trailing.length - 4, 0);
    const shortValue = Buffer.from(put);
    shortValue.writeUInt32BE(1000, shortValue.length - 5); // value length past the frame
    const badUtf8 = frameOf(encodeRequest({ op: 'GET', row: 'ab', column: 'c' }, 1, CLIENT_ID));
    badUtf8[22] = 0xff;
    for (const [name, bytes] of [['opcode', unknown], ['trailing', trailing], ['value length', shortValue], ['utf8', badUtf8]] as const) {
      const decoder = new KvFrameDecoder('request', FRAME_MAX);
      const frames = decoder.push(Buffer.concat([bytes, put]));
      expect(frames, name).to.have.length(2);
      expect(() => decodeRequest(frames[0]!), name).to.throw(KvBodyError);
      expect(decodeRequest(frames[1]!).op, name).to.equal('PUT');
    }
  });

  it('round-trips every peer message, and the decoder takes them as request frames', () => {
    const seq = 2 ** 40 + 3;
    const records: KvLogRecord[] = [
      { seq, view: 7, op: 'PUT', row: 'r', column: 'é', value: binary, clientId: '0102030405060708', requestId: 9 },
      { seq: seq + 1, view: 8, op: 'PUT', row: 'ключ', column: 'c', value: Buffer.from('short'), clientId: 'a0b1c2d3e4f5a6b7', requestId: 2 ** 32 - 1 },
      { seq: seq + 2, view: 8, op: 'DELETE', row: '', column: 'c', clientId: 'ffffffffffffffff', requestId: 0 },
      { seq: seq + 3, view: 8, op: 'SPLIT', row: 'm', column: '', clientId: '0000000000000000', requestId: 0 },
      { seq: seq + 4, view: 8, op: 'PUT', row: 'long', column: 'v', value: Buffer.alloc(5000, 3), clientId: '0102030405060708', requestId: 10 },
    ];
    const messages: PeerMessage[] = [
      { kind: 'replicate', view: 8, records: records.map((record) => ({ record, encoded: encodeLogRecord(record) })) },
      { kind: 'replicate', view: 9, records: [{ record: records[2]!, encoded: encodeLogRecord(records[2]!) }] },
      { kind: 'probe', view: 3, lastSeq: 10, lastSeqView: 2 },
      { kind: 'probe', view: 3, lastSeq: 10, lastSeqView: 2, nonce: 41 },
      { kind: 'ack', view: 3, seq: 10, seqView: 2 },
      { kind: 'ack', view: 3, seq: 10, seqView: 2, nonce: 41 },
      { kind: 'refuse', view: 4, reason: 'diverged', lastSeq: 12 },
      { kind: 'catch-up', view: 4, lastSeq: 0, lastSeqView: 0 },
    ];
    const decoder = new KvFrameDecoder('request', FRAME_MAX);
    const frames = decoder.push(Buffer.concat(messages.flatMap((m) => encodePeerMessage(6, m))));
    // A record's bytes come back as one view into the frame: compared joined.
    const comparable = (message: PeerMessage): unknown => (message.kind !== 'replicate' ? message
      : { ...message, records: message.records.map((r) => ({ record: r.record, bytes: Buffer.concat(r.encoded) })) });
    expect(frames.map((f) => decodePeerMessage(f)).map(({ from, message }) => ({ from, message: comparable(message) })))
      .to.deep.equal(messages.map((message) => ({ from: 6, message: comparable(message) })));
    const decoded = decodePeerMessage(frames[0]!).message;
    expect(decoded.kind === 'replicate' && decoded.records.map((r) => r.encoded.length)).to.deep.equal([1, 1, 1, 1, 1]);
    // A long value is sent as its own buffer, not copied into the record's.
    expect(encodeLogRecord(records[4]!)[1]).to.equal((records[4] as { value: Buffer }).value);
  });

  it('refuses a REPLICATE whose records are damaged, out of order, miscounted or followed by bytes', () => {
    const records: KvLogRecord[] = [5, 6, 7].map((seq) => ({ seq, view: 2, op: 'PUT', row: `row-${seq}`, column: 'c', value: Buffer.alloc(40, seq), clientId: '0102030405060708', requestId: seq }));
    const frame = (recs: KvLogRecord[], count = recs.length, after = Buffer.alloc(0)): Buffer => {
      const parts = recs.flatMap((r) => encodeLogRecord(r));
      const bytes = Buffer.concat([...parts, after]);
      return Buffer.concat(encodeReplicate(1, 2, count, [bytes], bytes.length));
    };
    const decode = (bytes: Buffer): unknown => decodePeerMessage(new KvFrameDecoder('request', FRAME_MAX).push(bytes)[0]!);
    const good = frame(records);
    expect(decode(good)).to.have.nested.property('message.records.length', 3);
    const cases: [string, Buffer, RegExp][] = [];
    for (const offset of [36 + 8, 36 + 30, good.length - 1]) {
      const spoiled = Buffer.from(good);
      spoiled[offset] ^= 0x01;
      cases.push([`byte ${offset} changed`, spoiled, /checksum/]);
    }
    cases.push(['a seq skipped', frame([records[0]!, records[2]!]), /seq 7 after 5/]);
    cases.push(['one record fewer than counted', frame(records, 4), /record 4 of 4: record header cut short/]);
    cases.push(['one record more than counted', frame(records, 2), /bytes after the last of 2 records/]);
    cases.push(['bytes after the records', frame(records, 3, Buffer.from([1, 2, 3])), /3 bytes after/]);
    for (const [name, bytes, problem] of cases) expect(() => decode(bytes), name).to.throw(KvBodyError, problem);
  });
});
