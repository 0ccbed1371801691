/**
 * The seam between the store and replication: what the replication layer (replica-node.ts)
 * lends the store so that it sequences writes in the current view, tells replication about
 * each one, and answers only once a write is committed.
 */
import type { WalRecord } from './wal-record.js';

/** What the replication layer (replica-node.ts) lends the store. */
export interface StoreReplication {
  /** The view that sequences new writes here (the WAL record carries it). */
  readonly view: number;
  /**
   * Whether this node may sequence a write now (it is the primary, with its log applied). A
   * write that waited (for a tablet load, for memory) asks again right before it is logged.
   */
  canSequence(): boolean;
  /** Called synchronously for every write this node sequences, in seq order, with its log bytes. */
  sequenced(record: WalRecord, encoded: Buffer[]): void;
  /** Resolves once `seq` is committed; rejects (NotCommittedError) when it may never be. */
  waitCommitted(seq: number): Promise<void>;
  /** Resolves with `committed()` once `seq` is committed, or with `failed(err)` when it may never be. */
  whenCommitted<T>(seq: number, committed: () => T, failed: (err: NotCommittedError) => T): Promise<T>;
}

/** A write that this node cannot see committed (it lost its role, or the wait ran out). */
export class NotCommittedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotCommittedError';
  }
}
