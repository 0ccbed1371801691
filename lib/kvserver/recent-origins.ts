/**
 * The writes applied lately, by origin (client id, request id) -> seq, so that a client that
 * retries a request (after a timeout, a lost connection or a failover) gets the answer of the
 * first attempt instead of a second application. Every replica fills it from the records it
 * applies, replays or receives, so the table survives a failover with the log that carries it.
 *
 * Only writes that changed something are logged, so only they are remembered; their answer
 * is always OK. A CPUT that did not match changed nothing: retrying it decides again.
 */
import type { KvOrigin } from '../protocol/kv-wire.js';
import type { WalRecord } from './wal-record.js';

/**
 * Origins remembered at most (about 100 bytes each); the oldest is forgotten first. A client
 * retries within its request budget (seconds): at the replicated write rate of one group
 * (thousands per second) this covers that budget several times over.
 */
export const RECENT_ORIGINS_MAX = 100_000;

/** The client id of requests that carry no origin (all zero): never remembered. */
const NO_CLIENT = '0000000000000000';

export class RecentOrigins {
  /** Insertion order is age order (a Map iterates in insertion order). */
  private readonly seqByOrigin = new Map<string, number>();

  constructor(private readonly entriesMax = RECENT_ORIGINS_MAX) {}

  get size(): number {
    return this.seqByOrigin.size;
  }

  /** Notes a record that was applied. */
  remember(record: WalRecord): void {
    if (record.clientId === NO_CLIENT) return;
    const key = `${record.clientId}:${record.requestId}`;
    this.seqByOrigin.delete(key);
    this.seqByOrigin.set(key, record.seq);
    if (this.seqByOrigin.size > this.entriesMax) {
      const oldest = this.seqByOrigin.keys().next().value as string;
      this.seqByOrigin.delete(oldest);
    }
  }

  /** Every remembered origin with its seq, oldest first (a snapshot carries them to a peer). */
  *entries(): IterableIterator<{ clientId: string; requestId: number; seq: number }> {
    for (const [key, seq] of this.seqByOrigin) {
      const colon = key.indexOf(':');
      yield { clientId: key.slice(0, colon), requestId: Number(key.slice(colon + 1)), seq };
    }
  }

  /** The seq of the write this origin made, if it is remembered. */
  seqOf(origin: KvOrigin): number | undefined {
    if (origin.clientId === NO_CLIENT) return undefined;
    return this.seqByOrigin.get(`${origin.clientId}:${origin.requestId}`);
  }
}
