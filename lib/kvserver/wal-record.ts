/**
 * The write-ahead log's records: encoded on append, decoded and verified on replay. Pure. The
 * bytes of one record are the protocol's (lib/protocol/kv-log-record.ts, which documents
 * them): REPLICATE carries them as the log holds them.
 */
import { decodeLogRecord, encodeLogRecord, LOG_RECORD_PREFIX_BYTES, type KvLogRecord } from '../protocol/kv-log-record.js';

export const WAL_RECORD_PREFIX_BYTES = LOG_RECORD_PREFIX_BYTES;

/** A logged write; the same record travels to the secondaries (see kv-peer-codec.ts). */
export type WalRecord = KvLogRecord;

/** Encodes a record as buffers for writev; a long value is referenced, not copied. */
export const encodeWalRecord = encodeLogRecord;

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
    const decoded = decodeLogRecord(bytes, pos, payloadBytesMax);
    if ('problem' in decoded) return result(decoded.torn ? 'torn' : 'corrupt', decoded.problem);
    const { record } = decoded;
    if (nextSeq !== undefined) {
      const expected = nextSeq + records.length;
      if (record.seq < expected) return result('unused', `a record of seq ${record.seq} from an older segment`);
      if (record.seq > expected) return result('gap', `record seq ${record.seq} where ${expected} was expected`);
    }
    records.push(record);
    positions?.push(pos);
    pos = decoded.end;
  }
  return result('end', '');
}

/** Whether every byte of `bytes` from `pos` on is zero. */
function allZero(bytes: Buffer, pos: number): boolean {
  for (let i = pos; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
