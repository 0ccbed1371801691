/**
 * Words for a violation, for people reading a failed check: which key, and either the
 * observation no order explains (with the writes that were overwritten before it), or how
 * far a valid order got and which operations could not come next. Pure: returns lines.
 */
import { statesAlong, type Violation } from './check-history.js';
import { describeOperation, NEVER_COMPLETED, showValue, type EventSource, type Operation } from './history.js';
import { stepRegister } from './register-model.js';

/** How many operations of the linearizable prefix a report shows (its end matters most). */
export const PREFIX_SHOWN_MAX = 12;

/** A report of `violation`, one line per element, without trailing newlines. */
export function describeViolation(violation: Violation): string[] {
  return violation.kind === 'stale-observation' ? describeStaleObservation(violation) : describeDeadEnd(violation);
}

function describeStaleObservation(violation: Extract<Violation, { kind: 'stale-observation' }>): string[] {
  const { key, observer, value, overwrites } = violation;
  const lines = [
    `key ${JSON.stringify(key)}: ${operationLine(observer)}`,
    `saw ${showValue(value)}, which the key could no longer hold when it began:`,
  ];
  if (overwrites.length === 0) lines.push(`  no operation ever wrote ${showValue(value)}`);
  for (const { writer, overwriter } of overwrites) {
    const source = writer === null ? 'the initial absence' : operationLine(writer);
    lines.push(`  ${source}`, `    was overwritten by ${operationLine(overwriter)}`);
  }
  return lines;
}

function describeDeadEnd(violation: Extract<Violation, { kind: 'dead-end' }>): string[] {
  const { key, prefix, state, candidates, overdue } = violation;
  const lines = [
    `key ${JSON.stringify(key)}: no valid order of its ${violation.operationsChecked} operations`,
    `longest linearizable prefix: ${prefix.length} operations, leaving ${showValue(state)}`,
  ];
  const states = statesAlong(prefix);
  const shownFrom = Math.max(0, prefix.length - PREFIX_SHOWN_MAX);
  if (shownFrom > 0) lines.push(`  ... ${shownFrom} earlier operations`);
  for (let i = shownFrom; i < prefix.length; i++) {
    lines.push(`  ${operationLine(prefix[i]!)}  => ${showValue(states[i]!)}`);
  }
  lines.push(`then ${operationLine(overdue)} completed before it could take effect;`);
  lines.push(`the operations that could come next after the prefix:`);
  for (const op of candidates) {
    const fits = stepRegister(state, op) !== undefined;
    lines.push(`  ${operationLine(op)}${fits ? '' : `  (impossible on ${showValue(state)})`}`);
  }
  return lines;
}

/** `#12 process 3 cas("1" -> "2") [line 40 to line 44]`. */
export function operationLine(op: Operation): string {
  return `#${op.id} process ${op.process} ${describeOperation(op)} [${span(op)}]`;
}

function span(op: Operation): string {
  const from = where(op.invokeSource, op.invokeAt);
  if (op.completeAt !== NEVER_COMPLETED) return `${from} to ${where(op.completeSource, op.completeAt)}`;
  if (op.completeSource.line !== undefined) return `${from}, info at line ${op.completeSource.line}`;
  return `${from}, never completed`;
}

function where(source: EventSource, position: number): string {
  return source.line !== undefined ? `line ${source.line}` : `event ${position + 1}`;
}
