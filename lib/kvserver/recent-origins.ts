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

/**
 * Forgetting the oldest origin must stay O(1): a Map iterated from its oldest entry skips the
 * holes its deletions left, which grow with every eviction until the table is rehashed (tens of
 * microseconds per write at the bound). So age order is kept in a ring of slots instead: the map
 * names each origin's slot, and a slot whose origin was remembered again later is left empty.
 */
export class RecentOrigins {
  /** Origin key -> its slot in the ring. */
  private readonly slotByOrigin = new Map<string, number>();
  /** Per slot: the origin key (undefined once it moved to a newer slot) and its seq. */
  private readonly keys: (string | undefined)[];
  private readonly seqs: Float64Array;
  /** The oldest slot, and the slots in use from it (empty ones included). */
  private head = 0;
  private used = 0;

  constructor(private readonly entriesMax = RECENT_ORIGINS_MAX) {
    this.keys = new Array<string | undefined>(entriesMax);
    this.seqs = new Float64Array(entriesMax);
  }

  get size(): number {
    return this.slotByOrigin.size;
  }

  /** Notes a record that was applied. */
  remember(record: WalRecord): void {
    if (record.clientId === NO_CLIENT) return;
    const key = `${record.clientId}:${record.requestId}`;
    const previous = this.slotByOrigin.get(key);
    if (previous !== undefined) this.keys[previous] = undefined;
    if (this.used === this.entriesMax) {
      const oldest = this.keys[this.head];
      if (oldest !== undefined) this.slotByOrigin.delete(oldest);
      this.keys[this.head] = undefined;
      this.head = (this.head + 1) % this.entriesMax;
      this.used--;
    }
    const slot = (this.head + this.used) % this.entriesMax;
    this.keys[slot] = key;
    this.seqs[slot] = record.seq;
    this.used++;
    this.slotByOrigin.set(key, slot);
  }

  /** Every remembered origin with its seq, oldest first (a snapshot carries them to a peer). */
  *entries(): IterableIterator<{ clientId: string; requestId: number; seq: number }> {
    for (let i = 0; i < this.used; i++) {
      const slot = (this.head + i) % this.entriesMax;
      const key = this.keys[slot];
      if (key === undefined) continue;
      const colon = key.indexOf(':');
      yield { clientId: key.slice(0, colon), requestId: Number(key.slice(colon + 1)), seq: this.seqs[slot]! };
    }
  }

  /** The seq of the write this origin made, if it is remembered. */
  seqOf(origin: KvOrigin): number | undefined {
    if (origin.clientId === NO_CLIENT) return undefined;
    const slot = this.slotByOrigin.get(`${origin.clientId}:${origin.requestId}`);
    return slot === undefined ? undefined : this.seqs[slot];
  }
}
