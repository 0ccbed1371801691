/**
 * Replication messages between storage nodes of one group, carried as request frames of the
 * KV framing on the nodes' own port (opcodes 0x20-0x28, docs/kv-protocol.md). They are one-way:
 * no reply frame answers them; an ack or a refusal travels back as a message of its own on the
 * sender's own connection to the peer. Every message names its sender and carries a view.
 */
import { BodyReader, FrameWriter, KvBodyError } from './kv-bytes.js';
import type { RawFrame } from './kv-frame-decoder.js';
import { decodeLogRecord, type EncodedLogRecord } from './kv-log-record.js';
import { KV_PROTOCOL_VERSION, KV_REQUEST_HEADER_BYTES, KvOp } from './kv-wire.js';

export type { KvLogRecord, EncodedLogRecord } from './kv-log-record.js';

export type RefuseReason = 'stale-view' | 'gap' | 'diverged';

/** What a snapshot chunk carries: a tablet (checkpoint format) or the recent-origins table. */
export type SnapshotPart = 'tablet' | 'origins';

/**
 * Opcodes of the snapshot messages, after those of kv-wire.ts's KvOp (0x20-0x24): the frame
 * decoder leaves the kind byte to us, and only peers ever send these.
 */
export const SnapshotOp = {
  SNAPSHOT_BEGIN: 0x25,
  SNAPSHOT_CHUNK: 0x26,
  SNAPSHOT_END: 0x27,
  SNAPSHOT_ACK: 0x28,
} as const;

/** What one node says to another. */
export type PeerMessage =
  /**
   * The primary's next records (or resent ones), consecutive in seq, each in the bytes the log
   * holds it in (kv-log-record.ts): a secondary logs them as they came.
   */
  | { kind: 'replicate'; view: number; records: EncodedLogRecord[] }
  /** A new primary asks what a secondary holds; it answers with an ack of its last seq. */
  | { kind: 'probe'; view: number; lastSeq: number; lastSeqView: number; nonce?: number }
  /** `nonce` echoes the probe's, so the primary knows the ack answers it (read confirmation). */
  | { kind: 'ack'; view: number; seq: number; seqView: number; nonce?: number }
  | { kind: 'refuse'; view: number; reason: RefuseReason; lastSeq: number }
  /** A node outside the view asks the primary for what it lacks (it becomes a learner). */
  | { kind: 'catch-up'; view: number; lastSeq: number; lastSeqView: number }
  /**
   * The primary starts sending a snapshot to a node it cannot catch up by log: the node's log
   * is to restart after `seq` (whose record was written in `seqView`).
   */
  | { kind: 'snapshot-begin'; view: number; snapshotId: number; seq: number; seqView: number }
  /** Chunk `index` (from 0, consecutive over the whole snapshot); `final` ends its part. */
  | { kind: 'snapshot-chunk'; view: number; snapshotId: number; index: number; part: SnapshotPart; final: boolean; bytes: Buffer }
  /**
   * Every chunk was sent (`chunkCount` in all). No tablet reflects a record after `coveredSeq`,
   * and every record up to it is committed.
   */
  | { kind: 'snapshot-end'; view: number; snapshotId: number; chunkCount: number; coveredSeq: number }
  /** The receiver wrote the first `chunks` chunks; `refused`: it is not taking this snapshot. */
  | { kind: 'snapshot-ack'; view: number; snapshotId: number; chunks: number; refused: boolean };

const REASONS: RefuseReason[] = ['stale-view', 'gap', 'diverged'];
const PARTS: SnapshotPart[] = ['tablet', 'origins'];
const NO_CLIENT = Buffer.alloc(8);

/** Header, sender, view and record count of a REPLICATE frame. */
const REPLICATE_HEAD_BYTES = KV_REQUEST_HEADER_BYTES + 4 + 8 + 4;

/**
 * Record bytes a REPLICATE frame may carry for a receiver that takes frames of up to
 * `frameBytesMax` bytes (kvFrameBytesMax: one record of the longest value always fits).
 */
export function replicateRecordBytesMax(frameBytesMax: number): number {
  return frameBytesMax - REPLICATE_HEAD_BYTES;
}

/** True for the opcodes that carry peer messages rather than client requests. */
export function isPeerOpcode(kind: number): boolean {
  return kind >= KvOp.REPLICATE && kind <= SnapshotOp.SNAPSHOT_ACK;
}

/** Seqs and views are below 2^53: written as two u32 halves, no BigInt on the hot path. */
function u64(w: FrameWriter, v: number): FrameWriter {
  return w.u32(Math.floor(v / 0x1_0000_0000)).u32(v >>> 0);
}

function readU64(r: BodyReader, what: string): number {
  const high = r.u32(what);
  const low = r.u32(what);
  const v = high * 0x1_0000_0000 + low;
  if (!Number.isSafeInteger(v)) throw new KvBodyError(`${what} is out of range`);
  return v;
}

/** A nonce of 0 on the wire means none. */
function withNonce(message: { nonce?: number }, nonce: number): void {
  if (nonce !== 0) message.nonce = nonce;
}

/**
 * A REPLICATE frame from node `from` in `view` carrying `count` records whose encodings are
 * `parts` (`bytes` in all), in order: the records' buffers are referenced, not copied.
 */
export function encodeReplicate(from: number, view: number, count: number, parts: readonly Buffer[], bytes: number): Buffer[] {
  const head = Buffer.allocUnsafe(REPLICATE_HEAD_BYTES);
  head.writeUInt32BE(REPLICATE_HEAD_BYTES + bytes - 4, 0);
  head[4] = KV_PROTOCOL_VERSION;
  head[5] = KvOp.REPLICATE;
  head.writeUInt16BE(0, 6);
  head.writeUInt32BE(0, 8);
  NO_CLIENT.copy(head, 12);
  head.writeUInt32BE(from, KV_REQUEST_HEADER_BYTES);
  head.writeUInt32BE(Math.floor(view / 0x1_0000_0000), KV_REQUEST_HEADER_BYTES + 4);
  head.writeUInt32BE(view >>> 0, KV_REQUEST_HEADER_BYTES + 8);
  head.writeUInt32BE(count, KV_REQUEST_HEADER_BYTES + 12);
  return [head, ...parts];
}

/** Encodes one message from node `from` as the buffers of one frame. */
export function encodePeerMessage(from: number, message: PeerMessage): Buffer[] {
  if (message.kind === 'replicate') {
    const parts = message.records.flatMap((r) => r.encoded);
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    return encodeReplicate(from, message.view, message.records.length, parts, bytes);
  }
  const w = new FrameWriter(KV_REQUEST_HEADER_BYTES, 0);
  const opcode = {
    probe: KvOp.PROBE, ack: KvOp.ACK, refuse: KvOp.REFUSE, 'catch-up': KvOp.CATCH_UP,
    'snapshot-begin': SnapshotOp.SNAPSHOT_BEGIN, 'snapshot-chunk': SnapshotOp.SNAPSHOT_CHUNK,
    'snapshot-end': SnapshotOp.SNAPSHOT_END, 'snapshot-ack': SnapshotOp.SNAPSHOT_ACK,
  }[message.kind];
  w.u8(KV_PROTOCOL_VERSION).u8(opcode).u16(0).u32(0).raw(NO_CLIENT);
  w.u32(from);
  u64(w, message.view);
  switch (message.kind) {
    case 'probe':
      u64(u64(u64(w, message.lastSeq), message.lastSeqView), message.nonce ?? 0);
      break;
    case 'catch-up':
      u64(u64(w, message.lastSeq), message.lastSeqView);
      break;
    case 'ack':
      u64(u64(u64(w, message.seq), message.seqView), message.nonce ?? 0);
      break;
    case 'refuse':
      w.u8(REASONS.indexOf(message.reason));
      u64(w, message.lastSeq);
      break;
    case 'snapshot-begin':
      u64(u64(u64(w, message.snapshotId), message.seq), message.seqView);
      break;
    case 'snapshot-chunk':
      u64(w, message.snapshotId).u32(message.index).u8(PARTS.indexOf(message.part) + 1).u8(message.final ? 1 : 0);
      w.value(message.bytes);
      break;
    case 'snapshot-end':
      u64(w, message.snapshotId).u32(message.chunkCount);
      u64(w, message.coveredSeq);
      break;
    case 'snapshot-ack':
      u64(w, message.snapshotId).u32(message.chunks).u8(message.refused ? 1 : 0);
      break;
  }
  return w.finish();
}

/**
 * The records of a REPLICATE body (after its count), each checked (checksum, fields) and
 * consecutive in seq; their encodings are views into the frame. They fill the rest of it.
 */
function decodeRecords(r: BodyReader, frame: Buffer): EncodedLogRecord[] {
  const count = r.u32('record count');
  const records: EncodedLogRecord[] = [];
  let pos = r.position;
  for (let i = 0; i < count; i++) {
    const decoded = decodeLogRecord(frame, pos, frame.length);
    if ('problem' in decoded) throw new KvBodyError(`record ${i + 1} of ${count}: ${decoded.problem}`);
    const previous = records.at(-1);
    if (previous !== undefined && decoded.record.seq !== previous.record.seq + 1) {
      throw new KvBodyError(`record ${i + 1} of ${count} has seq ${decoded.record.seq} after ${previous.record.seq}`);
    }
    records.push({ record: decoded.record, encoded: [frame.subarray(pos, decoded.end)] });
    pos = decoded.end;
  }
  if (pos !== frame.length) throw new KvBodyError(`${frame.length - pos} bytes after the last of ${count} records`);
  return records;
}

/** Decodes a peer frame; throws KvBodyError when it is malformed. */
export function decodePeerMessage(frame: RawFrame): { from: number; message: PeerMessage } {
  const r = new BodyReader(frame.bytes, frame.bodyOffset);
  const from = r.u32('sender');
  const view = readU64(r, 'view');
  let message: PeerMessage;
  switch (frame.kind) {
    case KvOp.REPLICATE:
      return { from, message: { kind: 'replicate', view, records: decodeRecords(r, frame.bytes) } };
    case KvOp.PROBE:
    case KvOp.CATCH_UP: {
      const lastSeq = readU64(r, 'last seq');
      const lastSeqView = readU64(r, 'last seq view');
      message = { kind: frame.kind === KvOp.PROBE ? 'probe' : 'catch-up', view, lastSeq, lastSeqView };
      if (message.kind === 'probe') withNonce(message, readU64(r, 'nonce'));
      break;
    }
    case KvOp.ACK:
      message = { kind: 'ack', view, seq: readU64(r, 'seq'), seqView: readU64(r, 'seq view') };
      withNonce(message, readU64(r, 'nonce'));
      break;
    case KvOp.REFUSE: {
      const reason = REASONS[r.u8('reason')];
      if (reason === undefined) throw new KvBodyError('unknown refusal reason');
      message = { kind: 'refuse', view, reason, lastSeq: readU64(r, 'last seq') };
      break;
    }
    case SnapshotOp.SNAPSHOT_BEGIN:
      message = { kind: 'snapshot-begin', view, snapshotId: readU64(r, 'snapshot id'), seq: readU64(r, 'seq'), seqView: readU64(r, 'seq view') };
      break;
    case SnapshotOp.SNAPSHOT_CHUNK: {
      const snapshotId = readU64(r, 'snapshot id');
      const index = r.u32('chunk index');
      const part = PARTS[r.u8('part') - 1];
      if (part === undefined) throw new KvBodyError('unknown snapshot part');
      const final = r.flag('final flag');
      message = { kind: 'snapshot-chunk', view, snapshotId, index, part, final, bytes: r.value('chunk') };
      break;
    }
    case SnapshotOp.SNAPSHOT_END:
      message = { kind: 'snapshot-end', view, snapshotId: readU64(r, 'snapshot id'), chunkCount: r.u32('chunk count'), coveredSeq: readU64(r, 'covered seq') };
      break;
    case SnapshotOp.SNAPSHOT_ACK:
      message = { kind: 'snapshot-ack', view, snapshotId: readU64(r, 'snapshot id'), chunks: r.u32('chunks'), refused: r.flag('refused flag') };
      break;
    default:
      throw new KvBodyError(`opcode 0x${frame.kind.toString(16)} is not a peer message`);
  }
  r.end();
  return { from, message };
}
