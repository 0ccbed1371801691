/**
 * Replication messages between storage nodes of one group, carried as request frames of the
 * KV framing on the nodes' own port (opcodes 0x20-0x28, docs/kv-protocol.md). They are one-way:
 * no reply frame answers them; an ack or a refusal travels back as a message of its own on the
 * sender's own connection to the peer. Every message names its sender and carries a view.
 */
import { BodyReader, FrameWriter, KvBodyError } from './kv-bytes.js';
import type { RawFrame } from './kv-frame-decoder.js';
import { KV_PROTOCOL_VERSION, KV_REQUEST_HEADER_BYTES, KvOp, keyBytes } from './kv-wire.js';

/**
 * A record as the log holds it and as replication carries it: a write, or a split the primary
 * decided (the tablet holding `row` splits so that `row` starts a new tablet; no column, no
 * origin), so that every copy of a group splits at the same row and the same point of the log.
 */
export type KvLogRecord =
  | { seq: number; view: number; op: 'PUT'; row: string; column: string; value: Buffer; clientId: string; requestId: number }
  | { seq: number; view: number; op: 'DELETE'; row: string; column: string; clientId: string; requestId: number }
  | { seq: number; view: number; op: 'SPLIT'; row: string; column: ''; clientId: string; requestId: number };

/** The record type byte of REPLICATE. */
const RECORD_TYPES = { PUT: 1, DELETE: 2, SPLIT: 3 } as const;

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
  /** The primary's next record (or a resent one). */
  | { kind: 'replicate'; view: number; entry: { seq: number; view: number; record: KvLogRecord } }
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

/** Encodes one message from node `from` as the buffers of one frame. */
export function encodePeerMessage(from: number, message: PeerMessage): Buffer[] {
  const keys = message.kind === 'replicate' ? keyBytes(message.entry.record.row) + keyBytes(message.entry.record.column) : 0;
  const w = new FrameWriter(KV_REQUEST_HEADER_BYTES, keys);
  const opcode = {
    replicate: KvOp.REPLICATE, probe: KvOp.PROBE, ack: KvOp.ACK, refuse: KvOp.REFUSE, 'catch-up': KvOp.CATCH_UP,
    'snapshot-begin': SnapshotOp.SNAPSHOT_BEGIN, 'snapshot-chunk': SnapshotOp.SNAPSHOT_CHUNK,
    'snapshot-end': SnapshotOp.SNAPSHOT_END, 'snapshot-ack': SnapshotOp.SNAPSHOT_ACK,
  }[message.kind];
  w.u8(KV_PROTOCOL_VERSION).u8(opcode).u16(0).u32(0).raw(NO_CLIENT);
  w.u32(from);
  u64(w, message.view);
  switch (message.kind) {
    case 'replicate': {
      const r = message.entry.record;
      u64(u64(w, r.seq), r.view);
      w.u8(RECORD_TYPES[r.op]).raw(Buffer.from(r.clientId.padEnd(16, '0'), 'hex')).u32(r.requestId);
      w.key(r.row).key(r.column);
      if (r.op === 'PUT') w.value(r.value);
      break;
    }
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

/** Decodes a peer frame; throws KvBodyError when it is malformed. */
export function decodePeerMessage(frame: RawFrame): { from: number; message: PeerMessage } {
  const r = new BodyReader(frame.bytes, frame.bodyOffset);
  const from = r.u32('sender');
  const view = readU64(r, 'view');
  let message: PeerMessage;
  switch (frame.kind) {
    case KvOp.REPLICATE: {
      const seq = readU64(r, 'seq');
      const recordView = readU64(r, 'record view');
      const type = r.u8('record type');
      const clientId = r.raw(8, 'client id').toString('hex');
      const requestId = r.u32('request id');
      const row = r.key('row');
      const column = r.key('column');
      let record: KvLogRecord;
      if (type === RECORD_TYPES.PUT) record = { seq, view: recordView, op: 'PUT', row, column, value: r.value('value'), clientId, requestId };
      else if (type === RECORD_TYPES.DELETE) record = { seq, view: recordView, op: 'DELETE', row, column, clientId, requestId };
      else if (type === RECORD_TYPES.SPLIT && column === '') record = { seq, view: recordView, op: 'SPLIT', row, column, clientId, requestId };
      else throw new KvBodyError(type === RECORD_TYPES.SPLIT ? 'a split record names no column' : `unknown record type ${type}`);
      message = { kind: 'replicate', view, entry: { seq, view: recordView, record } };
      break;
    }
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
