/**
 * The memory of the search: every configuration (set of placed operations, register
 * state) it has already explored. Two paths that placed the same operations and left the
 * register in the same state have the same future, so the second is cut short. This is
 * what makes the Wing-Gong search practical (Lowe, "Testing for linearizability", 2017).
 */
import type { RegisterValue } from './history.js';
import type { OpBitset } from './op-bitset.js';

/**
 * Default memory the cache may take for one key. Past it the checker answers "unknown"
 * rather than let the process run out of memory.
 */
export const CACHE_BYTES_MAX = 256 * 1024 * 1024;

/** A rough cost of one entry beyond its characters: string header and set slot. */
const ENTRY_OVERHEAD_BYTES = 48;

/** What `add` found: a new configuration, one seen before, or no room left. */
export type CacheAddResult = 'added' | 'seen' | 'full';

/** A bounded set of explored configurations, keyed by one string each. */
export class LinearizationCache {
  private readonly keys = new Set<string>();
  private bytes = 0;

  constructor(private readonly bytesMax: number = CACHE_BYTES_MAX) {}

  /** Number of configurations remembered. */
  get size(): number {
    return this.keys.size;
  }

  /**
   * Remembers (`placed`, `state`, `restricted`) unless it is already known or there is no
   * room. `restricted` marks a configuration whose next step the search limits (right after
   * an `info` operation): it has fewer futures than the same one unrestricted, so the two
   * are told apart.
   */
  add(placed: OpBitset, state: RegisterValue, restricted: boolean): CacheAddResult {
    // One leading unit tells absent from "" and restricted from not; the snapshot has its
    // own length, so the state's characters can simply follow it.
    const kind = (restricted ? 2 : 0) + (state === null ? 1 : 0);
    const key = String.fromCharCode(kind) + placed.snapshot() + (state ?? '');
    if (this.keys.has(key)) return 'seen';
    const cost = 2 * key.length + ENTRY_OVERHEAD_BYTES;
    if (this.bytes + cost > this.bytesMax) return 'full';
    this.keys.add(key);
    this.bytes += cost;
    return 'added';
  }
}
