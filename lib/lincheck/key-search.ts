/**
 * The search for a linearization of the operations on one key, in the style of Wing and
 * Gong as improved by Lowe: walking the list of invocations and completions in real-time
 * order, the search tries to place each operation invoked before the first completion
 * still in the list; placing one lifts its two entries out; reaching a completion means
 * its operation should have been placed already, so the search backtracks. A cache of
 * explored configurations keeps it from exploring the same future twice.
 *
 * `info` operations (completion at infinity) are what makes histories from faulty runs
 * hard: each one stays a candidate forever. Three rules, each keeping at least one valid
 * order whenever there is one, stop them from multiplying the search:
 * - an `info` operation is placed only where the next operation needs it (`needsLastInfo`);
 *   one followed by a blind write or by nothing might as well not have happened, and
 *   dropping it changes no result. It is not even tried unless an operation that may come
 *   next would need it (`ObserverIndex`);
 * - of identical `info` operations, the earlier-invoked is placed first (`findInfoTwins`);
 * - at each point, operations with a known outcome are tried before `info` ones.
 * And one rule for operations that change nothing (reads, cas operations not applied):
 * one that fails where it is possible fails everywhere after (see `backtrack`), which cuts
 * the search among the concurrent writes a read has to order.
 */
import { buildEntryList, liftEntry, unliftEntry, type Entry } from './entry-list.js';
import { NEVER_COMPLETED, type Operation, type RegisterValue } from './history.js';
import { LinearizationCache } from './linearization-cache.js';
import { ObserverIndex } from './observer-index.js';
import { OpBitset } from './op-bitset.js';
import { INITIAL_REGISTER_STATE, stepRegister, writtenValue } from './register-model.js';

/** How often (in search steps) the search reads the clock: often enough, cheap enough. */
const CLOCK_CHECK_STEPS = 1024;

/** What bounds one search: a deadline on a given clock, and the cache's memory. */
export interface SearchBudget {
  /** The search gives up when `nowMs()` passes this. */
  readonly deadlineMs: number;
  readonly nowMs: () => number;
  readonly cacheBytesMax: number;
}

/**
 * Where the deepest path of a failed search got stuck: after linearizing `prefix` (the
 * register then holding `state`), none of `candidates` (the operations that may come next)
 * could be placed before `overdue` completed.
 */
export interface DeadEnd {
  readonly prefix: readonly Operation[];
  readonly state: RegisterValue;
  readonly candidates: readonly Operation[];
  readonly overdue: Operation;
}

/** The answer for one key. */
export type KeySearchResult =
  | { readonly verdict: 'linearizable'; readonly linearization: readonly Operation[] }
  | { readonly verdict: 'not-linearizable'; readonly deadEnd: DeadEnd }
  | { readonly verdict: 'unknown'; readonly reason: 'timeout' | 'cache-full' };

/** One placed operation, with what to restore when the search takes it back. */
interface Frame {
  readonly call: Entry;
  readonly state: RegisterValue;
  readonly infoPass: boolean;
  readonly firstReturnAt: number;
  readonly mustObserve: boolean;
}

/**
 * Searches for a linearization of `ops`, which all act on one register, sorted by
 * invocation, none of them failed. Deterministic for a given input (the clock only decides
 * when to give up).
 */
export function searchKey(ops: readonly Operation[], budget: SearchBudget): KeySearchResult {
  return new KeySearch(ops, budget).run();
}

class KeySearch {
  private readonly head: Entry;
  private readonly twinBefore: Int32Array;
  private readonly linearized: OpBitset;
  private readonly cache: LinearizationCache;
  private readonly stack: Frame[] = [];
  /** Operations with a known outcome not yet placed; at 0 the rest may never have happened. */
  private definiteLeft: number;
  private state: RegisterValue = INITIAL_REGISTER_STATE;
  /** Each point tries its candidates in two passes: known outcomes, then `info`. */
  private infoPass = false;
  /** In the `info` pass: the position of the first completion still in the list. */
  private firstReturnAt = 0;
  /** The last placed operation was `info`: the next one must look at its value. */
  private mustObserve = false;
  private readonly observers: ObserverIndex;
  private readonly isPlaced = (index: number): boolean => this.linearized.has(index);
  private deepest: DeadEnd | null = null;

  constructor(
    private readonly ops: readonly Operation[],
    private readonly budget: SearchBudget,
  ) {
    this.head = buildEntryList(ops);
    this.twinBefore = findInfoTwins(ops);
    this.observers = new ObserverIndex(ops);
    this.linearized = new OpBitset(ops.map((op) => op.completeAt === NEVER_COMPLETED));
    this.cache = new LinearizationCache(budget.cacheBytesMax);
    this.definiteLeft = ops.filter((op) => op.completeAt !== NEVER_COMPLETED).length;
  }

  run(): KeySearchResult {
    let entry = this.head.next;
    let steps = 0;
    while (this.definiteLeft > 0) {
      // The list always ends with a completion, and a completion never lets the walk past it.
      if (entry === null) throw new Error('linearizability search walked off the end of its list');
      if (++steps % CLOCK_CHECK_STEPS === 0 && this.budget.nowMs() > this.budget.deadlineMs) {
        return { verdict: 'unknown', reason: 'timeout' };
      }
      if (entry.isCall) {
        const placed = this.tryPlace(entry);
        if (placed === 'full') return { verdict: 'unknown', reason: 'cache-full' };
        if (placed !== 'dead-end') {
          entry = placed === 'placed' ? this.head.next : entry.next;
          continue;
        }
        this.noteDeadEnd(null);
        entry = this.backtrack();
        if (entry === null) return { verdict: 'not-linearizable', deadEnd: this.deepest! };
        continue;
      }
      if (!this.infoPass) {
        this.infoPass = true;
        this.firstReturnAt = this.ops[entry.op]!.completeAt;
        entry = this.head.next;
        continue;
      }
      // A completion ahead of every placeable invocation: this path is a dead end.
      this.noteDeadEnd(entry);
      entry = this.backtrack();
      if (entry === null) return { verdict: 'not-linearizable', deadEnd: this.deepest! };
    }
    return { verdict: 'linearizable', linearization: this.stack.map((f) => this.ops[f.call.op]!) };
  }

  /** Places the operation of `call` if the rules and the register allow and it leads somewhere new. */
  private tryPlace(call: Entry): 'placed' | 'skipped' | 'dead-end' | 'full' {
    const op = this.ops[call.op]!;
    const isInfo = op.completeAt === NEVER_COMPLETED;
    if (isInfo !== this.infoPass) return 'skipped';
    if (this.mustObserve && !this.needsLastInfo(op)) return 'skipped';
    const twin = this.twinBefore[call.op]!;
    if (twin !== -1 && !this.linearized.has(twin)) return 'skipped';
    if (isInfo && !this.observers.hasCandidateObserver(writtenValue(op)!, this.state, call.op, this.firstReturnAt, this.isPlaced)) {
      return 'skipped';
    }
    const next = stepRegister(this.state, op);
    if (next === undefined) return 'skipped';
    this.linearized.add(call.op);
    const seen = this.cache.add(this.linearized, next, isInfo);
    if (seen !== 'added') {
      this.linearized.remove(call.op);
      if (seen === 'full') return 'full';
      // A configuration in the cache and not on the path has been explored and failed.
      return isReadOnly(op) ? 'dead-end' : 'skipped';
    }
    this.stack.push({
      call,
      state: this.state,
      infoPass: this.infoPass,
      firstReturnAt: this.firstReturnAt,
      mustObserve: this.mustObserve,
    });
    liftEntry(call);
    this.state = next;
    this.infoPass = false;
    this.mustObserve = isInfo;
    if (!isInfo) this.definiteLeft--;
    return 'placed';
  }

  /**
   * Takes back the last placed operation; returns where the walk resumes, or null when the
   * root itself is a dead end. A read-only operation that failed takes its parent with it:
   * it was possible there and changes nothing, so if any order worked from the parent, one
   * placing it first would have worked too (it was invoked before every unplaced
   * operation completed, so moving it forward breaks no real-time order).
   */
  private backtrack(): Entry | null {
    for (;;) {
      const frame = this.stack.pop();
      if (frame === undefined) return null;
      const op = this.ops[frame.call.op]!;
      if (op.completeAt !== NEVER_COMPLETED) this.definiteLeft++;
      this.linearized.remove(frame.call.op);
      unliftEntry(frame.call);
      this.state = frame.state;
      this.infoPass = frame.infoPass;
      this.firstReturnAt = frame.firstReturnAt;
      this.mustObserve = frame.mustObserve;
      if (!isReadOnly(op)) return frame.call.next;
    }
  }

  /**
   * Whether `op` may follow the `info` operation just placed: it must look at the value
   * that operation wrote (a read, a cas expecting it), or be a cas reported not applied
   * that only the change made possible (it expects the value from before). Any other
   * order is equivalent to one where the `info` operation moved later or never happened.
   */
  private needsLastInfo(op: Operation): boolean {
    const call = op.call;
    if (call.f === 'read') return true;
    if (call.f !== 'cas') return false;
    if (op.outcome !== 'ok' || op.applied !== false) return true;
    return call.expected === this.stack[this.stack.length - 1]!.state;
  }

  /**
   * Keeps the deepest dead end for the report. Dead ends right after an `info` operation
   * are left out: they only say that the rule above did not apply there.
   */
  private noteDeadEnd(overdue: Entry | null): void {
    if (this.mustObserve) return;
    if (this.deepest !== null && this.stack.length <= this.deepest.prefix.length) return;
    const candidates: Operation[] = [];
    let e = this.head.next;
    for (; e !== null && e.isCall; e = e.next) candidates.push(this.ops[e.op]!);
    // Cut short by a read-only operation, the walk has not reached the first completion yet.
    const first = overdue ?? e!;
    this.deepest = {
      prefix: this.stack.map((f) => this.ops[f.call.op]!),
      state: this.state,
      candidates,
      overdue: this.ops[first.op]!,
    };
  }
}

/**
 * True for the operations with a known outcome that never change the register: reads,
 * and cas operations that were not applied or write back the value they expect.
 */
function isReadOnly(op: Operation): boolean {
  if (op.outcome !== 'ok') return false;
  const call = op.call;
  return call.f === 'read' || (call.f === 'cas' && (op.applied === false || call.expected === call.value));
}

/**
 * For each `info` operation, the index of the last earlier-invoked `info` operation that
 * does exactly the same thing, or -1. Such twins are interchangeable, except that the
 * earlier one may take effect sooner; so any valid order can use them in order of
 * invocation, and the search only places an `info` operation once its earlier twin is
 * placed. Without this, k identical writes cost 2^k subsets instead of k + 1 counts.
 */
function findInfoTwins(ops: readonly Operation[]): Int32Array {
  const twinBefore = new Int32Array(ops.length).fill(-1);
  const lastByCall = new Map<string, number>();
  ops.forEach((op, index) => {
    if (op.completeAt !== NEVER_COMPLETED) return;
    const call = op.call;
    const signature = JSON.stringify([
      call.f,
      call.f === 'cas' ? call.expected : undefined,
      call.f === 'cas' || call.f === 'write' ? call.value : undefined,
    ]);
    const last = lastByCall.get(signature);
    if (last !== undefined) twinBefore[index] = last;
    lastByCall.set(signature, index);
  });
  return twinBefore;
}
