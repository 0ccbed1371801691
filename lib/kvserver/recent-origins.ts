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
 * Origins remembered at most (about 50 bytes each); the oldest is forgotten first. A client
 * retries within its request budget (seconds): at the replicated write rate of one group
 * (thousands per second) this covers that budget several times over.
 */
export const RECENT_ORIGINS_MAX = 100_000;

/** The client id of requests that carry no origin (all zero): never remembered. */
const NO_CLIENT = '0000000000000000';

/** Ints per bucket of the hash table: slot + 1, request id, client number, padding. */
const BUCKET_INTS = 4;

/**
 * Age order is kept in a ring of slots, so that forgetting the oldest origin is O(1); a slot
 * whose origin was remembered again later is left empty. Origins are found through a hash
 * table of their own (open addressing, linear probing, in one typed array): remembering took
 * four or five lookups in JavaScript Maps of up to RECENT_ORIGINS_MAX entries, about a tenth of
 * a secondary's work per replicated write; here it is a probe or two in memory laid out flat.
 * Client ids are numbered (a small Map), so no key string is built per write.
 */
export class RecentOrigins {
  /** Client id -> its number, the id of each number, and how many origins each holds. */
  private readonly clientNumbers = new Map<string, number>();
  private readonly clientIds: string[] = [];
  private readonly clientOrigins: number[] = [];
  private readonly freeClientNumbers: number[] = [];
  private count = 0;
  /** Per slot: the origin's client number (-1: an empty slot), request id and seq. */
  private readonly ringClients: Int32Array;
  private readonly ringRequestIds: Float64Array;
  private readonly ringSeqs: Float64Array;
  /** The oldest slot, and the slots in use from it (empty ones included). */
  private head = 0;
  private used = 0;
  /**
   * Buckets of BUCKET_INTS: the slot + 1 (0: an empty bucket), the request id (as int32) and
   * the client number. Twice the entries, rounded up to a power of two: at most half full.
   */
  private readonly table: Int32Array;
  private readonly bucketMask: number;

  constructor(private readonly entriesMax = RECENT_ORIGINS_MAX) {
    this.ringClients = new Int32Array(entriesMax).fill(-1);
    this.ringRequestIds = new Float64Array(entriesMax);
    this.ringSeqs = new Float64Array(entriesMax);
    let buckets = 2;
    while (buckets < 2 * entriesMax) buckets *= 2;
    this.table = new Int32Array(buckets * BUCKET_INTS);
    this.bucketMask = buckets - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Notes a record that was applied. */
  remember(record: WalRecord): void {
    const { clientId, requestId } = record;
    if (clientId === NO_CLIENT) return;
    if (this.used === this.entriesMax) {
      this.forget(this.head);
      this.head = (this.head + 1) % this.entriesMax;
      this.used--;
    }
    const client = this.clientNumbers.get(clientId) ?? this.numberClient(clientId);
    const slot = (this.head + this.used) % this.entriesMax;
    this.ringClients[slot] = client;
    this.ringRequestIds[slot] = requestId;
    this.ringSeqs[slot] = record.seq;
    this.used++;
    this.count++;
    this.clientOrigins[client]!++;
    const bucket = this.find(client, requestId);
    if (bucket >= 0) {
      // Remembered again (a replay): its older slot is left empty.
      this.ringClients[this.table[bucket * BUCKET_INTS]! - 1] = -1;
      this.count--;
      this.clientOrigins[client]!--;
      this.table[bucket * BUCKET_INTS] = slot + 1;
      return;
    }
    let b = this.home(client, requestId);
    while (this.table[b * BUCKET_INTS] !== 0) b = (b + 1) & this.bucketMask;
    const at = b * BUCKET_INTS;
    this.table[at] = slot + 1;
    this.table[at + 1] = requestId | 0;
    this.table[at + 2] = client;
  }

  /** Every remembered origin with its seq, oldest first (a snapshot carries them to a peer). */
  *entries(): IterableIterator<{ clientId: string; requestId: number; seq: number }> {
    for (let i = 0; i < this.used; i++) {
      const slot = (this.head + i) % this.entriesMax;
      const client = this.ringClients[slot]!;
      if (client === -1) continue;
      yield { clientId: this.clientIds[client]!, requestId: this.ringRequestIds[slot]!, seq: this.ringSeqs[slot]! };
    }
  }

  /** The seq of the write this origin made, if it is remembered. */
  seqOf(origin: KvOrigin): number | undefined {
    if (origin.clientId === NO_CLIENT) return undefined;
    const client = this.clientNumbers.get(origin.clientId);
    if (client === undefined) return undefined;
    const bucket = this.find(client, origin.requestId);
    return bucket < 0 ? undefined : this.ringSeqs[this.table[bucket * BUCKET_INTS]! - 1];
  }

  /** The bucket where a search for this origin starts. */
  private home(client: number, requestId: number): number {
    let h = Math.imul((requestId | 0) ^ Math.imul(client + 1, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.bucketMask;
  }

  /** The bucket holding this origin, or -1. */
  private find(client: number, requestId: number): number {
    const id = requestId | 0;
    for (let b = this.home(client, requestId); ; b = (b + 1) & this.bucketMask) {
      const at = b * BUCKET_INTS;
      if (this.table[at] === 0) return -1;
      if (this.table[at + 1] === id && this.table[at + 2] === client) return b;
    }
  }

  /**
   * Empties a bucket, moving back the entries after it that their probe would no longer reach
   * (deletion in linear probing, without tombstones).
   */
  private removeBucket(bucket: number): void {
    const t = this.table;
    let hole = bucket;
    for (let b = (hole + 1) & this.bucketMask; t[b * BUCKET_INTS] !== 0; b = (b + 1) & this.bucketMask) {
      const at = b * BUCKET_INTS;
      const home = this.home(t[at + 2]!, t[at + 1]!);
      // It stays if its home lies cyclically in (hole, b]; else it moves into the hole.
      const stays = hole < b ? home > hole && home <= b : home > hole || home <= b;
      if (stays) continue;
      const to = hole * BUCKET_INTS;
      t[to] = t[at]!;
      t[to + 1] = t[at + 1]!;
      t[to + 2] = t[at + 2]!;
      hole = b;
    }
    t.fill(0, hole * BUCKET_INTS, hole * BUCKET_INTS + BUCKET_INTS);
  }

  /** Empties a slot (the oldest, being reused). */
  private forget(slot: number): void {
    const client = this.ringClients[slot]!;
    if (client === -1) return;
    this.ringClients[slot] = -1;
    this.count--;
    this.removeBucket(this.find(client, this.ringRequestIds[slot]!));
    if (--this.clientOrigins[client]! === 0) {
      this.clientNumbers.delete(this.clientIds[client]!);
      this.freeClientNumbers.push(client);
    }
  }

  private numberClient(clientId: string): number {
    const client = this.freeClientNumbers.pop() ?? this.clientIds.length;
    this.clientIds[client] = clientId;
    this.clientOrigins[client] = 0;
    this.clientNumbers.set(clientId, client);
    return client;
  }
}
