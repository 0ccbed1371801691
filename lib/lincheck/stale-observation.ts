/**
 * A quick proof of the commonest violation, before any search: an operation that saw a
 * value (a read, or a cas that succeeded expecting it) when every operation that could
 * have left that value had certainly been overwritten before the observer began. A lost
 * write, a read from a deposed primary or a cas applied twice all look like this, and in a
 * long history on one key the search would need to try every order of the past to say so.
 * Linear after sorting, and only ever a shortcut: finding nothing proves nothing.
 */
import type { Operation, RegisterValue } from './history.js';
import { writtenValue } from './register-model.js';

/** Past this many possible writers of one value, an observer is left to the search. */
export const WRITERS_SCANNED_MAX = 64;

/** One way a value was lost: `writer` left it (null: the key's initial absence), `overwriter` replaced it. */
export interface Overwrite {
  readonly writer: Operation | null;
  readonly overwriter: Operation;
}

/** An observation no order can explain, and why. */
export interface StaleObservation {
  /** The read, or successful cas, that saw a value the key could no longer hold. */
  readonly observer: Operation;
  readonly value: RegisterValue;
  /** For each operation that could have written the value: one that certainly overwrote it first. */
  readonly overwrites: readonly Overwrite[];
}

/** A definite change of the register: an ok write, delete or applied cas. */
interface Change {
  readonly op: Operation;
  readonly value: RegisterValue;
}

/**
 * The first stale observation in `ops` (one key, none failed), or null. Every step of the
 * argument uses only certain facts: an ok operation took effect between its invocation and
 * its completion, so one that completed before another began took effect first.
 */
export function findStaleObservation(ops: readonly Operation[]): StaleObservation | null {
  const changes: Change[] = [];
  const writersByValue = new Map<RegisterValue, Operation[]>();
  for (const op of ops) {
    const value = writtenValue(op);
    if (value === undefined || (op.call.f === 'cas' && op.applied === false)) continue;
    const writers = writersByValue.get(value) ?? [];
    writers.push(op);
    writersByValue.set(value, writers);
    if (op.outcome === 'ok') changes.push({ op, value });
  }
  changes.sort((a, b) => a.op.invokeAt - b.op.invokeAt);
  const earliest = new EarliestChange(changes);
  for (const op of ops) {
    const value = observedValue(op);
    if (value === undefined) continue;
    const writers = (writersByValue.get(value) ?? []).filter((w) => w !== op);
    if (writers.length > WRITERS_SCANNED_MAX) continue;
    const overwrites: Overwrite[] = [];
    // The initial absence is a writer of null that completed before anything began.
    const sources: (Operation | null)[] = value === null ? [null, ...writers] : writers;
    for (const writer of sources) {
      const after = writer === null ? -1 : writer.completeAt;
      const overwriter = earliest.completedAfter(after, value);
      if (overwriter === null || overwriter.completeAt >= op.invokeAt) break;
      overwrites.push({ writer, overwriter });
    }
    if (overwrites.length === sources.length) return { observer: op, value, overwrites };
  }
  return null;
}

/** The value an ok read returned or an ok, applied cas expected; undefined for the rest. */
function observedValue(op: Operation): RegisterValue | undefined {
  if (op.outcome !== 'ok') return undefined;
  if (op.call.f === 'read') return op.readValue ?? null;
  if (op.call.f === 'cas' && op.applied !== false) return op.call.expected;
  return undefined;
}

/**
 * Answers "which definite change invoked after position t completed first, among those
 * writing something other than v" with two suffix minima: the earliest completion, and
 * the earliest whose value differs from it (enough, since v can rule out only one value).
 */
class EarliestChange {
  private readonly first: (Change | null)[];
  private readonly second: (Change | null)[];

  constructor(private readonly changes: readonly Change[]) {
    this.first = new Array<Change | null>(changes.length + 1).fill(null);
    this.second = new Array<Change | null>(changes.length + 1).fill(null);
    for (let i = changes.length - 1; i >= 0; i--) {
      const c = changes[i]!;
      let first = this.first[i + 1]!;
      let second = this.second[i + 1]!;
      if (first === null || c.op.completeAt < first.op.completeAt) {
        // The old first is the best of the rest; if it writes the same value as c, the
        // old second (which differs from it) still differs from c.
        if (first !== null && first.value !== c.value) second = first;
        first = c;
      } else if (c.value !== first.value && (second === null || c.op.completeAt < second.op.completeAt)) {
        second = c;
      }
      this.first[i] = first;
      this.second[i] = second;
    }
  }

  /** The change invoked after `position` that completed first and does not write `value`. */
  completedAfter(position: number, value: RegisterValue): Operation | null {
    let lo = 0;
    let hi = this.changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.changes[mid]!.op.invokeAt <= position) lo = mid + 1;
      else hi = mid;
    }
    const first = this.first[lo]!;
    if (first === null || first.value !== value) return first?.op ?? null;
    return this.second[lo]?.op ?? null;
  }
}
