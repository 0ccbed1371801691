/**
 * Turns a stream of invocation and completion events into operations. Both history parsers
 * feed it, and a test may feed it directly. It owns the rules every history must obey: a
 * process has at most one operation outstanding, a completion answers the invocation of its
 * own process, and an `ok` carries the result its operation needs.
 */
import { PennError } from '../protocol/errors.js';
import {
  NEVER_COMPLETED,
  type EventSource,
  type Operation,
  type Outcome,
  type RegisterCall,
  type RegisterValue,
} from './history.js';

/** How an operation ended, with the result an `ok` brings back. */
export type Completion =
  | { outcome: 'ok'; readValue?: RegisterValue; applied?: boolean }
  | { outcome: 'fail' }
  | { outcome: 'info' };

/** Reason attached to every PennError about a malformed history. */
export const MALFORMED_HISTORY = 'MALFORMED_HISTORY';

/** A malformed history: the message names the line (or event) at fault. */
export function malformedHistory(source: EventSource, position: number, message: string): PennError {
  const where = source.line !== undefined ? `line ${source.line}` : `event ${position + 1}`;
  return new PennError('BAD_REQUEST', `${where}: ${message}`, { reason: MALFORMED_HISTORY });
}

interface Pending {
  id: number;
  process: number;
  key: string;
  call: RegisterCall;
  invokeAt: number;
  invokeSource: EventSource;
}

/** Collects events in real-time order and builds the operations of a history. */
export class HistoryBuilder {
  private readonly pending = new Map<number, Pending>();
  private readonly operations: Operation[] = [];
  private nextId = 0;
  private position = 0;

  /** Records that `process` asked for `call` on `key`, now. */
  invoke(process: number, key: string, call: RegisterCall, source: EventSource = {}): void {
    const at = this.position++;
    if (!Number.isSafeInteger(process) || process < 0) {
      throw malformedHistory(source, at, `process must be a non-negative integer, got ${process}`);
    }
    const open = this.pending.get(process);
    if (open !== undefined) {
      const where = open.invokeSource.line !== undefined ? `line ${open.invokeSource.line}` : `event ${open.invokeAt + 1}`;
      throw malformedHistory(source, at, `process ${process} invoked again before its operation of ${where} completed`);
    }
    this.pending.set(process, { id: this.nextId++, process, key, call, invokeAt: at, invokeSource: source });
  }

  /**
   * Records how the outstanding operation of `process` ended, now. `expected` names the
   * operation the completion claims to answer, when the format says it (checked).
   */
  complete(process: number, completion: Completion, source: EventSource = {}, expected?: RegisterCall['f']): void {
    const at = this.position++;
    const open = this.pending.get(process);
    if (open === undefined) {
      throw malformedHistory(source, at, `${completion.outcome} for process ${process}, which has no operation outstanding`);
    }
    if (expected !== undefined && expected !== open.call.f) {
      throw malformedHistory(source, at, `${completion.outcome} of ${expected} answers a ${open.call.f} of process ${process}`);
    }
    checkCompletion(open, completion, source, at);
    this.pending.delete(process);
    this.push(open, completion, completion.outcome === 'info' ? NEVER_COMPLETED : at, source);
  }

  /** The operations so far, in order of invocation; those still outstanding count as `info`. */
  build(): Operation[] {
    const result = [...this.operations];
    for (const open of this.pending.values()) result.push(toOperation(open, { outcome: 'info' }, NEVER_COMPLETED, {}));
    return result.sort((a, b) => a.id - b.id);
  }

  private push(open: Pending, completion: Completion, completeAt: number, source: EventSource): void {
    this.operations.push(toOperation(open, completion, completeAt, source));
  }
}

/** An `ok` read must say what it read; only a cas may say it was not applied. */
function checkCompletion(open: Pending, completion: Completion, source: EventSource, at: number): void {
  if (completion.outcome !== 'ok') return;
  const f = open.call.f;
  if (f === 'read' && completion.readValue === undefined) {
    throw malformedHistory(source, at, 'an ok read needs the value it read (null when absent)');
  }
  if (f !== 'read' && completion.readValue !== undefined) {
    throw malformedHistory(source, at, `an ok ${f} returns no value`);
  }
  if (f !== 'cas' && completion.applied !== undefined) {
    throw malformedHistory(source, at, `only a cas can be not applied, not a ${f}`);
  }
}

function toOperation(open: Pending, completion: Completion, completeAt: number, source: EventSource): Operation {
  const outcome: Outcome = completion.outcome;
  const op: {
    -readonly [K in keyof Operation]: Operation[K];
  } = {
    id: open.id,
    process: open.process,
    key: open.key,
    call: open.call,
    outcome,
    invokeAt: open.invokeAt,
    completeAt,
    invokeSource: open.invokeSource,
    completeSource: source,
  };
  if (completion.outcome === 'ok') {
    if (completion.readValue !== undefined) op.readValue = completion.readValue;
    if (completion.applied !== undefined) op.applied = completion.applied;
  }
  return op;
}
