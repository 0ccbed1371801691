/**
 * The deterministic heart of the store: given a tablet and a write request, decide the reply
 * and the WAL record (if any); given a record, apply it. No I/O, no clock. A primary decides;
 * replay (and, later, a replica) only applies, so every copy reaches the same state from the
 * same log.
 */
import type { KvExpected, KvOrigin, KvReplyBody } from '../protocol/kv-wire.js';
import type { StoredValue } from './logged-value.js';
import { ownedValue } from './owned-value.js';
import type { Tablet } from './tablet.js';
import type { WalRecord } from './wal-record.js';

export type KvWrite =
  | { op: 'PUT'; row: string; column: string; value: Buffer }
  | { op: 'CPUT'; row: string; column: string; expected: KvExpected; value: Buffer }
  | { op: 'DELETE'; row: string; column: string };

export type WriteDecision =
  | { kind: 'reply'; reply: KvReplyBody }
  | { kind: 'write'; record: WalRecord; reply: KvReplyBody };

/**
 * Decides a write against the tablet's current state; `seq` and `view` (of the primary that
 * sequences it) are used only if it writes. `read` gives the bytes of a stored value (a CPUT
 * compares them).
 */
export function decideWrite(
  tablet: Tablet, write: KvWrite, seq: number, view: number, origin: KvOrigin, read: (value: StoredValue) => Buffer,
): WriteDecision {
  const { row, column } = write;
  const { clientId, requestId } = origin;
  switch (write.op) {
    case 'PUT':
      return {
        kind: 'write',
        record: { seq, view, op: 'PUT', row, column, value: ownedValue(write.value), clientId, requestId },
        reply: { status: 'OK' },
      };
    case 'CPUT': {
      const stored = tablet.get(row, column);
      const current = stored === undefined ? undefined : read(stored);
      const matches = write.expected.kind === 'absent'
        ? current === undefined
        : current !== undefined && current.equals(write.expected.value);
      if (!matches) return { kind: 'reply', reply: { status: 'CPUT_MISMATCH', current: current ?? null } };
      return {
        kind: 'write',
        record: { seq, view, op: 'PUT', row, column, value: ownedValue(write.value), clientId, requestId },
        reply: { status: 'OK' },
      };
    }
    case 'DELETE':
      if (tablet.get(row, column) === undefined) return { kind: 'reply', reply: { status: 'NOT_FOUND' } };
      return { kind: 'write', record: { seq, view, op: 'DELETE', row, column, clientId, requestId }, reply: { status: 'OK' } };
  }
}

/**
 * Applies a write record; a PUT's value is stored as is (the caller hands over an owned
 * buffer). A SPLIT changes the tablet set, not a tablet: the store applies it (kv-store.ts).
 */
export function applyRecord(tablet: Tablet, record: WalRecord): void {
  if (record.op === 'PUT') tablet.put(record.row, record.column, record.value);
  else if (record.op === 'DELETE') tablet.delete(record.row, record.column);
  else throw new Error(`a split record (seq ${record.seq}) is not applied to a tablet`);
}
