import { expect } from 'chai';
import { KvFrameDecoder } from '../../lib/protocol/kv-frame-decoder.js';
import { decodePeerMessage, encodePeerMessage, isPeerOpcode, SnapshotOp, type PeerMessage } from '../../lib/protocol/kv-peer-codec.js';
import { KvBodyError } from '../../lib/protocol/kv-bytes.js';
import { decodeOrigins, encodeOrigins, originsFrom, OriginsCorruptError } from '../../lib/kvserver/snapshot-origins.js';
import { SnapshotReceiveCore, type ReceiverEffect } from '../../lib/kvserver/snapshot-receiver.js';

/** Encodes a message and decodes it back through the frame decoder, as a node receives it. */
function roundTrip(from: number, message: PeerMessage): { from: number; message: PeerMessage } {
  const decoder = new KvFrameDecoder('request', 16 * 1024 * 1024);
  const frames = decoder.push(Buffer.concat(encodePeerMessage(from, message)));
  expect(frames).to.have.length(1);
  expect(isPeerOpcode(frames[0]!.kind)).to.equal(true);
  return decodePeerMessage(frames[0]!);
}

function frameOf(message: PeerMessage): ReturnType<KvFrameDecoder['push']>[number] {
  return new KvFrameDecoder('request', 16 * 1024 * 1024).push(Buffer.concat(encodePeerMessage(3, message)))[0]!;
}

describe('kvserver: snapshot messages on the wire', () => {
  it('round-trips every snapshot message, 64-bit fields and empty chunks included', () => {
    const messages: PeerMessage[] = [
      { kind: 'snapshot-begin', view: 7, snapshotId: 2 ** 47 - 1, seq: 2 ** 40 + 5, seqView: 6 },
      { kind: 'snapshot-chunk', view: 7, snapshotId: 9, index: 0, part: 'tablet', final: false, bytes: Buffer.from('cells') },
      { kind: 'snapshot-chunk', view: 7, snapshotId: 9, index: 4, part: 'origins', final: true, bytes: Buffer.alloc(0) },
      { kind: 'snapshot-end', view: 8, snapshotId: 9, chunkCount: 5, coveredSeq: 2 ** 40 + 9 },
      { kind: 'snapshot-ack', view: 8, snapshotId: 9, chunks: 3, refused: false },
      { kind: 'snapshot-ack', view: 8, snapshotId: 9, chunks: 0, refused: true },
    ];
    for (const message of messages) {
      const got = roundTrip(4, message);
      expect(got.from).to.equal(4);
      if (message.kind === 'snapshot-chunk' && got.message.kind === 'snapshot-chunk') {
        expect(got.message.bytes.equals(message.bytes)).to.equal(true);
        expect({ ...got.message, bytes: null }).to.deep.equal({ ...message, bytes: null });
      } else {
        expect(got.message).to.deep.equal(message);
      }
    }
  });

  it('uses the opcodes after CATCH_UP, and refuses a malformed body', () => {
    expect(frameOf({ kind: 'snapshot-begin', view: 1, snapshotId: 1, seq: 1, seqView: 1 }).kind).to.equal(SnapshotOp.SNAPSHOT_BEGIN);
    expect(SnapshotOp.SNAPSHOT_BEGIN).to.equal(0x25);
    expect(SnapshotOp.SNAPSHOT_ACK).to.equal(0x28);
    expect(isPeerOpcode(0x29)).to.equal(false);
    const chunk = frameOf({ kind: 'snapshot-chunk', view: 1, snapshotId: 1, index: 0, part: 'tablet', final: true, bytes: Buffer.from('x') });
    // The part byte sits after from (4), view (8), id (8) and index (4).
    const partAt = chunk.bodyOffset + 4 + 8 + 8 + 4;
    chunk.bytes[partAt] = 9;
    expect(() => decodePeerMessage(chunk)).to.throw(KvBodyError, /part/);
    const ack = frameOf({ kind: 'snapshot-ack', view: 1, snapshotId: 1, chunks: 1, refused: false });
    const cut = { ...ack, bytes: ack.bytes.subarray(0, ack.bytes.length - 1) };
    expect(() => decodePeerMessage(cut)).to.throw(KvBodyError);
  });
});

describe('kvserver: the origins table a snapshot carries', () => {
  it('round-trips in age order and rebuilds a table that recognises every origin', () => {
    const entries = [
      { clientId: '00000000000000aa', requestId: 1, seq: 3 },
      { clientId: 'ffffffffffffffff', requestId: 2 ** 32 - 1, seq: 2 ** 40 },
      { clientId: '0123456789abcdef', requestId: 7, seq: 9 },
    ];
    const bytes = encodeOrigins(entries, 2 ** 40);
    const decoded = decodeOrigins(bytes);
    expect(decoded).to.deep.equal({ seq: 2 ** 40, entries });
    const table = originsFrom(decoded.entries);
    expect(table.seqOf({ clientId: '0123456789abcdef', requestId: 7 })).to.equal(9);
    expect([...table.entries()]).to.deep.equal(entries);
  });

  it('refuses damaged bytes and an origin after the snapshot point', () => {
    const bytes = encodeOrigins([{ clientId: '00000000000000aa', requestId: 1, seq: 3 }], 5);
    const flipped = Buffer.from(bytes);
    flipped[12] ^= 1;
    expect(() => decodeOrigins(flipped)).to.throw(OriginsCorruptError, /checksum/);
    expect(() => decodeOrigins(bytes.subarray(0, 10))).to.throw(OriginsCorruptError, /short/);
    expect(() => decodeOrigins(encodeOrigins([{ clientId: '00000000000000aa', requestId: 1, seq: 6 }], 5))).to.throw(OriginsCorruptError, /after the snapshot point/);
  });
});

describe('kvserver: receiving a snapshot (the receiver core)', () => {
  const begin = (snapshotId: number): PeerMessage & { kind: 'snapshot-begin' } => ({ kind: 'snapshot-begin', view: 4, snapshotId, seq: 10, seqView: 3 });
  const chunk = (snapshotId: number, index: number, part: 'tablet' | 'origins', final: boolean): PeerMessage & { kind: 'snapshot-chunk' } => ({
    kind: 'snapshot-chunk', view: 4, snapshotId, index, part, final, bytes: Buffer.from(`c${index}`),
  });
  const end = (snapshotId: number, chunkCount: number, coveredSeq = 12): PeerMessage & { kind: 'snapshot-end' } => ({ kind: 'snapshot-end', view: 4, snapshotId, chunkCount, coveredSeq });
  const kinds = (effects: ReceiverEffect[]): string[] => effects.map((e) => (e.kind === 'send' ? (e.message.refused ? 'refuse' : `ack ${e.message.chunks}`) : e.kind));

  it('writes parts in order, acks what is written, and installs at the end', () => {
    const core = new SnapshotReceiveCore();
    expect(core.step({ kind: 'begin', from: 1, message: begin(5) })).to.deep.equal([]);
    expect(core.busy).to.equal(true);
    const writes = [chunk(5, 0, 'tablet', false), chunk(5, 1, 'tablet', true), chunk(5, 2, 'tablet', true), chunk(5, 3, 'origins', true)]
      .map((m) => core.step({ kind: 'chunk', from: 1, message: m })[0]!);
    expect(writes.map((w) => (w.kind === 'write' ? [w.part, w.final] : null))).to.deep.equal([[0, false], [0, true], [1, true], [2, true]]);
    expect(core.step({ kind: 'written', snapshotId: 5, chunks: 2 })).to.deep.equal([
      { kind: 'send', to: 1, message: { kind: 'snapshot-ack', view: 4, snapshotId: 5, chunks: 2, refused: false } },
    ]);
    expect(core.step({ kind: 'end', from: 1, message: end(5, 4) })).to.deep.equal([
      { kind: 'install', snapshotId: 5, seq: 10, seqView: 3, coveredSeq: 12, parts: ['tablet', 'tablet', 'origins'] },
    ]);
    expect(core.installing).to.equal(true);
    expect(kinds(core.step({ kind: 'begin', from: 1, message: begin(6) })), 'no other snapshot while installing').to.deep.equal(['refuse']);
    core.step({ kind: 'installed', snapshotId: 5 });
    expect(core.busy).to.equal(false);
  });

  it('abandons a stream with a missing chunk, a part cut short or a wrong count, refusing it once', () => {
    const gap = new SnapshotReceiveCore();
    gap.step({ kind: 'begin', from: 1, message: begin(5) });
    gap.step({ kind: 'chunk', from: 1, message: chunk(5, 0, 'tablet', false) });
    expect(kinds(gap.step({ kind: 'chunk', from: 1, message: chunk(5, 2, 'tablet', true) }))).to.deep.equal(['discard', 'refuse']);
    expect(kinds(gap.step({ kind: 'chunk', from: 1, message: chunk(5, 3, 'tablet', true) })), 'refused once').to.deep.equal([]);
    expect(gap.busy).to.equal(false);

    const cut = new SnapshotReceiveCore();
    cut.step({ kind: 'begin', from: 1, message: begin(5) });
    cut.step({ kind: 'chunk', from: 1, message: chunk(5, 0, 'tablet', false) });
    expect(kinds(cut.step({ kind: 'chunk', from: 1, message: chunk(5, 1, 'origins', true) }))).to.deep.equal(['discard', 'refuse']);

    const count = new SnapshotReceiveCore();
    count.step({ kind: 'begin', from: 1, message: begin(5) });
    count.step({ kind: 'chunk', from: 1, message: chunk(5, 0, 'tablet', true) });
    count.step({ kind: 'chunk', from: 1, message: chunk(5, 1, 'origins', true) });
    expect(kinds(count.step({ kind: 'end', from: 1, message: end(5, 3) }))).to.deep.equal(['discard', 'refuse']);

    const noOrigins = new SnapshotReceiveCore();
    noOrigins.step({ kind: 'begin', from: 1, message: begin(5) });
    noOrigins.step({ kind: 'chunk', from: 1, message: chunk(5, 0, 'tablet', true) });
    expect(kinds(noOrigins.step({ kind: 'end', from: 1, message: end(5, 1) }))).to.deep.equal(['discard', 'refuse']);
  });

  it('refuses chunks of a snapshot it never began (it restarted meanwhile), and a newer one replaces an older', () => {
    const core = new SnapshotReceiveCore();
    expect(kinds(core.step({ kind: 'chunk', from: 1, message: chunk(4, 7, 'tablet', false) }))).to.deep.equal(['refuse']);
    core.step({ kind: 'begin', from: 1, message: begin(5) });
    core.step({ kind: 'chunk', from: 1, message: chunk(5, 0, 'tablet', false) });
    expect(kinds(core.step({ kind: 'begin', from: 2, message: begin(6) }))).to.deep.equal(['discard']);
    expect(kinds(core.step({ kind: 'chunk', from: 1, message: chunk(5, 1, 'tablet', true) }))).to.deep.equal(['refuse']);
    expect(kinds(core.step({ kind: 'chunk', from: 2, message: chunk(6, 0, 'tablet', true) }))).to.deep.equal(['write']);
    expect(kinds(core.step({ kind: 'abandon', reason: 'the primary changed' }))).to.deep.equal(['discard', 'refuse']);
    expect(core.busy).to.equal(false);
  });
});
