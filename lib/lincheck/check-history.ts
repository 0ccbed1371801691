/**
 * The checker's entry point: splits a history by key and searches each key on its own.
 * A history is linearizable exactly when the history of every key is (Herlihy and Wing's
 * locality, the P-compositionality porcupine relies on), and small searches are
 * exponentially cheaper than one large one.
 */
import type { Operation, RegisterValue } from './history.js';
import { CACHE_BYTES_MAX } from './linearization-cache.js';
import { searchKey, type DeadEnd } from './key-search.js';
import { INITIAL_REGISTER_STATE, isInert, stepRegister, withoutUnobservedInfo } from './register-model.js';
import { findStaleObservation, type StaleObservation } from './stale-observation.js';

/** Default time the checker may spend on a whole history before answering "unknown". */
export const CHECK_TIMEOUT_MS_DEFAULT = 60_000;

/** Bounds of one check. Every field has a default. */
export interface CheckOptions {
  /** Time for the whole history, all keys together. */
  timeoutMs?: number;
  /** The clock the deadline is measured on (tests pass a fake one). */
  nowMs?: () => number;
  /** Memory the cache of one key may take. */
  cacheBytesMax?: number;
}

/** Why a key was not proven either way. */
export type UnknownReason = 'timeout' | 'cache-full';

/**
 * A key whose operations have no linearization, and why: either an observation no order
 * can explain (found before searching), or where the search got stuck.
 */
export type Violation =
  | ({ readonly kind: 'stale-observation' } & ViolationKey & StaleObservation)
  | ({ readonly kind: 'dead-end' } & ViolationKey & DeadEnd);

/** What every violation says about its key. */
export interface ViolationKey {
  readonly key: string;
  /** Operations on the key that had to be ordered (failed ones excluded). */
  readonly operationsChecked: number;
}

/** The checker's answer for a whole history. */
export type CheckResult =
  | {
      readonly verdict: 'linearizable';
      readonly keysChecked: number;
      readonly operationsChecked: number;
      /** One valid order of each key's operations (those `info` ones that took effect). */
      readonly linearizations: ReadonlyMap<string, readonly Operation[]>;
    }
  | { readonly verdict: 'not-linearizable'; readonly violation: Violation }
  | { readonly verdict: 'unknown'; readonly unknownKeys: readonly { key: string; reason: UnknownReason }[] };

/**
 * Checks that `operations` (a history, any order) is linearizable with respect to a map of
 * independent registers that all start absent. Pure apart from reading `nowMs`.
 * A key found not linearizable decides the answer even when other keys ran out of time.
 */
export function checkHistory(operations: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const nowMs = options.nowMs ?? (() => performance.now());
  const budget = {
    deadlineMs: nowMs() + (options.timeoutMs ?? CHECK_TIMEOUT_MS_DEFAULT),
    nowMs,
    cacheBytesMax: options.cacheBytesMax ?? CACHE_BYTES_MAX,
  };
  const byKey = partitionByKey(operations);
  const linearizations = new Map<string, readonly Operation[]>();
  const unknownKeys: { key: string; reason: UnknownReason }[] = [];
  let operationsChecked = 0;
  for (const [key, ops] of byKey) {
    operationsChecked += ops.length;
    const stale = findStaleObservation(ops);
    if (stale !== null) {
      return { verdict: 'not-linearizable', violation: { kind: 'stale-observation', key, operationsChecked: ops.length, ...stale } };
    }
    const result = searchKey(ops, budget);
    if (result.verdict === 'not-linearizable') {
      return { verdict: 'not-linearizable', violation: { kind: 'dead-end', key, operationsChecked: ops.length, ...result.deadEnd } };
    }
    if (result.verdict === 'unknown') unknownKeys.push({ key, reason: result.reason });
    else linearizations.set(key, result.linearization);
  }
  if (unknownKeys.length > 0) return { verdict: 'unknown', unknownKeys };
  return { verdict: 'linearizable', keysChecked: byKey.size, operationsChecked, linearizations };
}

/** The operations that matter, by key in sorted order (so reports are reproducible). */
function partitionByKey(operations: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of operations) {
    if (isInert(op)) continue;
    let ops = byKey.get(op.key);
    if (ops === undefined) {
      ops = [];
      byKey.set(op.key, ops);
    }
    ops.push(op);
  }
  const keys = [...byKey.keys()].sort();
  return new Map(keys.map((key) => [key, withoutUnobservedInfo(byKey.get(key)!.sort((a, b) => a.invokeAt - b.invokeAt))]));
}

/** The register value after each operation of a linearization (for reports). */
export function statesAlong(linearization: readonly Operation[]): RegisterValue[] {
  const states: RegisterValue[] = [];
  let state = INITIAL_REGISTER_STATE;
  for (const op of linearization) {
    // A linearization only holds possible steps; `?? state` merely satisfies the type.
    state = stepRegister(state, op) ?? state;
    states.push(state);
  }
  return states;
}
