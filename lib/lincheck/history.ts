/**
 * The history model of the linearizability checker: what a client asked a register to do,
 * when it asked, and what came back. A history is a list of operations; each knows the
 * position of its invocation and of its completion among all events, and those positions
 * are the only notion of time the checker uses (real-time order is event order).
 */

/** What a register holds: a value, or `null` when the key is absent. */
export type RegisterValue = string | null;

/**
 * One request to a register. Jepsen's cas-register and our KV operations share it:
 * `read` is GET, `write` is PUT, `cas` is CPUT (an `expected` of `null` means
 * create-if-absent), and `delete` makes the key absent.
 */
export type RegisterCall =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: string }
  | { readonly f: 'cas'; readonly expected: RegisterValue; readonly value: string }
  | { readonly f: 'delete' };

/**
 * How an operation ended, in Jepsen's words:
 * - `ok`: it took effect exactly once, between its invocation and its completion;
 * - `fail`: it certainly did not take effect (the checker drops it);
 * - `info`: nobody knows; it may take effect at any time after its invocation, or never.
 * An operation still pending when the history ends counts as `info`.
 */
export type Outcome = 'ok' | 'fail' | 'info';

/** The position given to the completion of an `info` operation: after everything. */
export const NEVER_COMPLETED = Number.POSITIVE_INFINITY;

/** Where an event came from, for messages: its line in the input and its clock time. */
export interface EventSource {
  /** 1-based line number in the file the event was read from. */
  line?: number;
  /** Wall-clock time the recorder wrote down; informative only. */
  timeMs?: number;
}

/** One operation of a history, from invocation to completion. */
export interface Operation {
  /** Index of the operation in its history, in order of invocation. */
  readonly id: number;
  /** The client that issued it; a process has at most one operation outstanding. */
  readonly process: number;
  /** The register it acts on; histories are checked one key at a time. */
  readonly key: string;
  readonly call: RegisterCall;
  readonly outcome: Outcome;
  /** For an `ok` read: the value it returned, `null` when absent. */
  readonly readValue?: RegisterValue;
  /**
   * For an `ok` cas: `false` when the store reported that the current value differed from
   * `expected` and wrote nothing (the checker then also checks that it did differ).
   */
  readonly applied?: boolean;
  /** Position of the invocation among all events of the history. */
  readonly invokeAt: number;
  /** Position of the completion; `NEVER_COMPLETED` for `info`. */
  readonly completeAt: number;
  readonly invokeSource: EventSource;
  readonly completeSource: EventSource;
}

/** A short human description of an operation, e.g. `cas("1" -> "2") ok` or `read -> absent`. */
export function describeOperation(op: Operation): string {
  const call = op.call;
  let text: string;
  switch (call.f) {
    case 'read':
      text = op.outcome === 'ok' ? `read -> ${showValue(op.readValue ?? null)}` : 'read';
      break;
    case 'write':
      text = `write ${showValue(call.value)}`;
      break;
    case 'cas':
      text = `cas(${showValue(call.expected)} -> ${showValue(call.value)})`;
      if (op.outcome === 'ok' && op.applied === false) text += ' not applied';
      break;
    case 'delete':
      text = 'delete';
      break;
  }
  return op.outcome === 'ok' ? text : `${text} ${op.outcome}`;
}

/** A register value as shown in messages: JSON-quoted, or `absent`. */
export function showValue(value: RegisterValue): string {
  return value === null ? 'absent' : JSON.stringify(value);
}
