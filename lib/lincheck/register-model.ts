/**
 * The sequential specification of one register, against which a history is checked: what
 * each operation does to the state, and which results it may return in a given state.
 * Every key starts absent, as a fresh key of the store and Jepsen's `nil` register do.
 */
import type { Operation, RegisterValue } from './history.js';

/** The state of every register before the first operation. */
export const INITIAL_REGISTER_STATE: RegisterValue = null;

/**
 * Applies `op` to `state` as if it took effect at this instant. Returns the next state, or
 * `undefined` when the operation's recorded result is impossible here (a read that saw
 * something else, a cas that succeeded against a different value).
 *
 * An `info` operation has no result to contradict. An `info` cas is only allowed where its
 * comparison succeeds: one that took effect as a no-op cannot be told from one that never
 * happened, which the search already allows by leaving it out, and offering both would
 * only multiply the orders it tries. `fail` operations never happened and must not reach
 * the model.
 */
export function stepRegister(state: RegisterValue, op: Operation): RegisterValue | undefined {
  const call = op.call;
  switch (call.f) {
    case 'read':
      if (op.outcome !== 'ok') return state;
      return state === op.readValue ? state : undefined;
    case 'write':
      return call.value;
    case 'delete':
      return null;
    case 'cas': {
      const matches = state === call.expected;
      if (op.outcome !== 'ok') return matches ? call.value : undefined;
      if (op.applied === false) return matches ? undefined : state;
      return matches ? call.value : undefined;
    }
  }
}

/**
 * True when `op` tells the checker nothing and changes nothing, so the checker may drop
 * it: a failed operation, or a read whose result is unknown. Dropping them early keeps the
 * search small, since every pending operation multiplies the orders to try.
 */
export function isInert(op: Operation): boolean {
  return op.outcome === 'fail' || (op.outcome === 'info' && op.call.f === 'read');
}

/**
 * Drops the `info` writes, deletes and cas operations whose written value no other
 * operation could have observed: no `ok` read returned it and no cas (`ok` or `info`)
 * expects it. Such an operation may as well never have happened: the model only checks
 * equalities (a read returns the value, a cas expects it), so while the register held the
 * unobserved value no operation looked at it. An `ok` cas reported as not applied checks
 * an inequality instead, so its key keeps everything.
 *
 * This is an optimisation with the same verdicts: each pending `info` operation doubles the
 * orders to try, and in a history of unique values most of them were never read.
 */
export function withoutUnobservedInfo(ops: readonly Operation[]): Operation[] {
  if (ops.some((op) => op.call.f === 'cas' && op.outcome === 'ok' && op.applied === false)) return [...ops];
  const observed = new Set<RegisterValue>();
  for (const op of ops) {
    if (op.outcome === 'fail') continue;
    if (op.call.f === 'read' && op.outcome === 'ok') observed.add(op.readValue ?? null);
    // An info cas observes too: whether it may take effect depends on the value it meets.
    if (op.call.f === 'cas') observed.add(op.call.expected);
  }
  return ops.filter((op) => {
    if (op.outcome !== 'info') return true;
    const written = writtenValue(op);
    return written !== undefined && observed.has(written);
  });
}

/** The value an operation leaves behind when it takes effect; `undefined` for a read. */
export function writtenValue(op: Operation): RegisterValue | undefined {
  switch (op.call.f) {
    case 'write':
    case 'cas':
      return op.call.value;
    case 'delete':
      return null;
    case 'read':
      return undefined;
  }
}
