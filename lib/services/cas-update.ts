/**
 * Read-modify-write of one cell with compare-and-put: read, compute the next value, CPUT
 * against what was read, and on a mismatch start again from the value the store returned.
 * Concurrent writers never lose each other's updates; each round someone wins, so the loop
 * ends, and it is bounded anyway.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PennError } from '../protocol/errors.js';
import type { KvTable } from './kv-table.js';

/**
 * Rounds one update may take before it gives up (UNAVAILABLE). Twenty uploads racing on one
 * counter need at most twenty; the rest is slack for a loaded store.
 */
export const CAS_ROUNDS_MAX = 64;
/**
 * Pauses between rounds grow from CAS_BACKOFF_MS_BASE, doubling up to CAS_BACKOFF_MS_MAX, each
 * a random fraction of that ("full jitter"): a writer that keeps losing backs off further, so
 * a steady stream of fresh writers cannot starve it round after round.
 */
export const CAS_BACKOFF_MS_BASE = 1;
export const CAS_BACKOFF_MS_MAX = 100;

/** What the update function decides: the next value, or `skip` to leave the cell as it is. */
export type CasDecision<T> = { next: Buffer; result: T } | { skip: true; result: T };

/**
 * Applies `decide` to the cell's current value (null when absent) until the CPUT succeeds or
 * `decide` skips. `decide` may throw to refuse (the cell is then unchanged).
 */
export async function casUpdate<T>(
  kv: KvTable,
  row: string,
  column: string,
  decide: (current: Buffer | null) => CasDecision<T>,
): Promise<T> {
  let current = await kv.get(row, column);
  for (let round = 0; round < CAS_ROUNDS_MAX; round++) {
    const decision = decide(current);
    if ('skip' in decision) return decision.result;
    const outcome = await kv.cput(row, column, current, decision.next);
    if (outcome.ok) return decision.result;
    current = outcome.current;
    if (round >= 1) {
      await sleep(Math.random() * Math.min(CAS_BACKOFF_MS_MAX, CAS_BACKOFF_MS_BASE * 2 ** round));
      // What the refusal returned is stale after a pause (others kept writing): read it again,
      // or every later round compares against an old value and loses.
      current = await kv.get(row, column);
    }
  }
  throw new PennError('UNAVAILABLE', `too much contention on one record (${CAS_ROUNDS_MAX} attempts)`, { reason: 'CONTENTION' });
}
