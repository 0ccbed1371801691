/**
 * The doubly linked list the search walks: every invocation and completion of one key's
 * operations in real-time order. Placing an operation lifts its two entries out; undoing
 * puts them back. Lifted entries keep their own links, so undoing in reverse order (as
 * a depth-first search does) restores the list exactly, in O(1) (Knuth's dancing links).
 */
import { NEVER_COMPLETED, type Operation } from './history.js';

/** One invocation or completion in the list. */
export interface Entry {
  /** Index of the operation in the key's array; -1 for the list head. */
  readonly op: number;
  readonly isCall: boolean;
  /** For an invocation: the entry of its completion. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

/** The list head, followed by every invocation and completion in real-time order. */
export function buildEntryList(ops: readonly Operation[]): Entry {
  const items: { at: number; entry: Entry }[] = [];
  ops.forEach((op, index) => {
    const ret: Entry = { op: index, isCall: false, match: null, prev: null, next: null };
    const call: Entry = { op: index, isCall: true, match: ret, prev: null, next: null };
    items.push({ at: op.invokeAt, entry: call });
    // Completions at infinity keep the order of their invocations, after everything else.
    items.push({ at: op.completeAt === NEVER_COMPLETED ? Number.MAX_SAFE_INTEGER : op.completeAt, entry: ret });
  });
  items.sort((a, b) => a.at - b.at || a.entry.op - b.entry.op);
  const head: Entry = { op: -1, isCall: false, match: null, prev: null, next: null };
  let last = head;
  for (const { entry } of items) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

/** Takes an invocation and its completion out of the list. */
export function liftEntry(call: Entry): void {
  const ret = call.match!;
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Puts back what `liftEntry` took out; valid only in reverse order of the lifts. */
export function unliftEntry(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}
