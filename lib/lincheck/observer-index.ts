/**
 * Which operations of a key look at which value, so that the search can tell when an
 * `info` operation is worth placing: only when some operation that may come next would
 * look at the value it writes (see the rules in key-search.ts). Without this, every dead
 * end of the search would try every `info` operation of the history in turn.
 */
import type { Operation, RegisterValue } from './history.js';

/** Observers of one kind, in order of invocation, ready for a backward scan. */
interface ObserverList {
  readonly indexes: number[];
  readonly invokeAt: number[];
  /** `completeMax[j]`: the latest completion among entries 0..j; bounds the scan. */
  readonly completeMax: number[];
}

function emptyList(): ObserverList {
  return { indexes: [], invokeAt: [], completeMax: [] };
}

function pushObserver(list: ObserverList, op: Operation, index: number): void {
  const last = list.completeMax.length === 0 ? -1 : list.completeMax[list.completeMax.length - 1]!;
  list.indexes.push(index);
  list.invokeAt.push(op.invokeAt);
  list.completeMax.push(Math.max(last, op.completeAt));
}

/** For one key: every operation whose result depends on the register's value. */
export class ObserverIndex {
  /** Reads that returned the value and ok cas operations that expect it. */
  private readonly byValue = new Map<RegisterValue, ObserverList>();
  /**
   * `info` cas operations that expect the value, kept apart: they never complete, so
   * among the others they would stop the scan from ending early. There are few of them.
   */
  private readonly infoByValue = new Map<RegisterValue, number[]>();
  /** Cas operations reported not applied: they look at every value but their expected one. */
  private readonly unequal = emptyList();

  /** `ops` sorted by invocation, as the search holds them. */
  constructor(private readonly ops: readonly Operation[]) {
    ops.forEach((op, index) => {
      const call = op.call;
      if (call.f === 'read' && op.outcome === 'ok') pushObserver(this.listFor(op.readValue ?? null), op, index);
      if (call.f !== 'cas') return;
      if (op.outcome === 'info') {
        const infos = this.infoByValue.get(call.expected) ?? [];
        infos.push(index);
        this.infoByValue.set(call.expected, infos);
      } else if (op.applied === false) {
        pushObserver(this.unequal, op, index);
      } else {
        pushObserver(this.listFor(call.expected), op, index);
      }
    });
  }

  /**
   * True when an operation other than `self`, not yet placed and invoked before
   * `firstReturnAt` (the first completion still to come, so it may be placed next), would
   * need `value` written over `state`: it looks for `value`, or it is a cas reported not
   * applied that expects `state`.
   */
  hasCandidateObserver(
    value: RegisterValue,
    state: RegisterValue,
    self: number,
    firstReturnAt: number,
    isPlaced: (index: number) => boolean,
  ): boolean {
    const same = this.byValue.get(value);
    if (same !== undefined && scanCandidates(same, self, firstReturnAt, isPlaced, () => true)) return true;
    for (const index of this.infoByValue.get(value) ?? []) {
      // An info cas is a candidate from its invocation on, as long as it is not placed.
      if (index !== self && this.ops[index]!.invokeAt < firstReturnAt && !isPlaced(index)) return true;
    }
    if (value === state) return false;
    const expectsState = (index: number): boolean => {
      const call = this.ops[index]!.call;
      return call.f === 'cas' && call.expected === state;
    };
    return scanCandidates(this.unequal, self, firstReturnAt, isPlaced, expectsState);
  }

  private listFor(value: RegisterValue): ObserverList {
    let list = this.byValue.get(value);
    if (list === undefined) {
      list = emptyList();
      this.byValue.set(value, list);
    }
    return list;
  }
}

/**
 * Looks backwards from the last entry invoked before `firstReturnAt`. Every operation not
 * placed completes at or after the first completion still in the list, so once the latest
 * completion among the remaining entries comes before `firstReturnAt`, they are all placed
 * and the scan stops: it only visits the window of operations still open.
 */
function scanCandidates(
  list: ObserverList,
  self: number,
  firstReturnAt: number,
  isPlaced: (index: number) => boolean,
  accept: (index: number) => boolean,
): boolean {
  let j = countBefore(list.invokeAt, firstReturnAt) - 1;
  for (; j >= 0 && list.completeMax[j]! >= firstReturnAt; j--) {
    const index = list.indexes[j]!;
    if (index !== self && !isPlaced(index) && accept(index)) return true;
  }
  return false;
}

/** Number of entries of the sorted `positions` below `bound` (binary search). */
function countBefore(positions: readonly number[], bound: number): number {
  let lo = 0;
  let hi = positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (positions[mid]! < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
