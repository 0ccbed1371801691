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
 * microseconds per write at the bound). So age order is kept in a ring of slots instead: the
 * maps name each origin's slot, and a slot whose origin was remembered again later is left
 * empty. Origins are looked up by client, then by request id (a number), so that no key string
 * is built per write.
 */
export class RecentOrigins {
  /** Client id -> request id -> its slot in the ring. */
  private readonly slotsByClient = new Map<string, Map<number, number>>();
  private count = 0;
  /** Per slot: the origin (client undefined once it moved to a newer slot) and its seq. */
  private readonly clients: (string | undefined)[];
  private readonly requestIds: Float64Array;
  private readonly seqs: Float64Array;
  /** The oldest slot, and the slots in use from it (empty ones included). */
  private head = 0;
  private used = 0;

  constructor(private readonly entriesMax = RECENT_ORIGINS_MAX) {
    this.clients = new Array<string | undefined>(entriesMax);
    this.requestIds = new Float64Array(entriesMax);
    this.seqs = new Float64Array(entriesMax);
  }

  get size(): number {
    return this.count;
  }

  /** Notes a record that was applied. */
  remember(record: WalRecord): void {
    const { clientId, requestId } = record;
    if (clientId === NO_CLIENT) return;
    let slots = this.slotsByClient.get(clientId);
    if (slots === undefined) {
      slots = new Map();
      this.slotsByClient.set(clientId, slots);
    }
    const previous = slots.get(requestId);
    if (previous !== undefined) {
      this.clients[previous] = undefined;
      this.count--;
    }
    if (this.used === this.entriesMax) {
      this.forget(this.head);
      this.head = (this.head + 1) % this.entriesMax;
      this.used--;
    }
    const slot = (this.head + this.used) % this.entriesMax;
    this.clients[slot] = clientId;
    this.requestIds[slot] = requestId;
    this.seqs[slot] = record.seq;
    this.used++;
    this.count++;
    // Looked up again: forgetting the oldest may have dropped this client's map.
    let current = this.slotsByClient.get(clientId);
    if (current === undefined) {
      current = slots;
      this.slotsByClient.set(clientId, current);
    }
    current.set(requestId, slot);
  }

  /** Empties a slot (the oldest, being reused). */
  private forget(slot: number): void {
    const clientId = this.clients[slot];
    if (clientId === undefined) return;
    this.clients[slot] = undefined;
    this.count--;
    const slots = this.slotsByClient.get(clientId)!;
    slots.delete(this.requestIds[slot]!);
    if (slots.size === 0) this.slotsByClient.delete(clientId);
  }

  /** Every remembered origin with its seq, oldest first (a snapshot carries them to a peer). */
  *entries(): IterableIterator<{ clientId: string; requestId: number; seq: number }> {
    for (let i = 0; i < this.used; i++) {
      const slot = (this.head + i) % this.entriesMax;
      const clientId = this.clients[slot];
      if (clientId === undefined) continue;
      yield { clientId, requestId: this.requestIds[slot]!, seq: this.seqs[slot]! };
    }
  }

  /** The seq of the write this origin made, if it is remembered. */
  seqOf(origin: KvOrigin): number | undefined {
    if (origin.clientId === NO_CLIENT) return undefined;
    const slot = this.slotsByClient.get(origin.clientId)?.get(origin.requestId);
    return slot === undefined ? undefined : this.seqs[slot];
  }
}
