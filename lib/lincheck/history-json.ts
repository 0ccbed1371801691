/**
 * PennCloud's own history format (docs/history-format.md): JSON lines, one event per line,
 * in real-time order. Built so that a recorder in a test can write an event with one
 * `JSON.stringify` at the moment it happens, and so that "absent" is `null`, never a missing
 * field.
 */
import { HistoryBuilder, malformedHistory, type Completion } from './history-builder.js';
import type { EventSource, Operation, RegisterCall, RegisterValue } from './history.js';

/** The KV operations a history records. */
export type KvOperationName = 'get' | 'put' | 'cput' | 'delete';

/** The kinds of event: an invocation and its three possible completions. */
export type HistoryEventType = 'invoke' | 'ok' | 'fail' | 'info';

/** One line of a history file. */
export interface HistoryEvent {
  type: HistoryEventType;
  /** The client; it has at most one operation outstanding. */
  process: number;
  /** Required on an invocation; on a completion optional, and checked when given. */
  op?: KvOperationName;
  key?: string;
  /**
   * Invocation of put and cput: the value to write. An ok get: the value read, `null` when
   * absent. Other completions may repeat the invocation's value.
   */
  value?: string | null;
  /** Invocation of cput: the value it expects, `null` for create-if-absent. */
  expected?: string | null;
  /** An ok cput: `false` when the store answered that the value differed and wrote nothing. */
  applied?: boolean;
  /** Wall-clock time, informative only: the order of lines is the order of events. */
  timeMs?: number;
  /** Free text for people, e.g. the error code of a fail or info. */
  error?: string;
}

const CALL_BY_OP: Record<KvOperationName, RegisterCall['f']> = {
  get: 'read',
  put: 'write',
  cput: 'cas',
  delete: 'delete',
};
const EVENT_TYPES: readonly string[] = ['invoke', 'ok', 'fail', 'info'];

/** One event as a line of the file, newline included. */
export function formatHistoryEvent(event: HistoryEvent): string {
  return JSON.stringify(event) + '\n';
}

/** Parses a whole history file; throws a PennError naming the line of the first bad event. */
export function parseHistoryJson(text: string): Operation[] {
  const events: { event: HistoryEvent; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    events.push({ event: parseEventLine(raw, index + 1), line: index + 1 });
  });
  return buildOperations(events);
}

/** The operations of events recorded in memory (event order is real-time order). */
export function operationsFromEvents(events: readonly HistoryEvent[]): Operation[] {
  return buildOperations(events.map((event) => ({ event })));
}

function parseEventLine(raw: string, line: number): HistoryEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw malformedHistory({ line }, 0, `not JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw malformedHistory({ line }, 0, 'an event must be a JSON object');
  }
  return parsed as HistoryEvent;
}

interface OpenCall {
  op: KvOperationName;
  key: string;
  value: string | null | undefined;
  expected: string | null | undefined;
}

function buildOperations(events: readonly { event: HistoryEvent; line?: number }[]): Operation[] {
  const builder = new HistoryBuilder();
  const open = new Map<number, OpenCall>();
  events.forEach(({ event, line }, position) => {
    const source: EventSource = line === undefined ? {} : { line };
    const fail = (message: string): never => {
      throw malformedHistory(source, position, message);
    };
    checkEventShape(event, fail);
    if (event.timeMs !== undefined) source.timeMs = event.timeMs;
    if (event.type === 'invoke') {
      const call = invocationCall(event, fail);
      builder.invoke(event.process, event.key!, call, source);
      open.set(event.process, { op: event.op!, key: event.key!, value: event.value, expected: event.expected });
      return;
    }
    const invoked = open.get(event.process);
    if (invoked !== undefined) checkRepeatedFields(event, invoked, fail);
    builder.complete(event.process, completion(event, invoked, fail), source);
    open.delete(event.process);
  });
  return builder.build();
}

/** Types of the fields every event may carry. */
function checkEventShape(event: HistoryEvent, fail: (message: string) => never): void {
  if (!EVENT_TYPES.includes(event.type)) fail(`"type" must be one of ${EVENT_TYPES.join(', ')}`);
  if (!Number.isSafeInteger(event.process) || event.process < 0) fail('"process" must be a non-negative integer');
  if (event.op !== undefined && !Object.hasOwn(CALL_BY_OP, event.op)) {
    fail(`"op" must be one of ${Object.keys(CALL_BY_OP).join(', ')}`);
  }
  if (event.key !== undefined && typeof event.key !== 'string') fail('"key" must be a string');
  if (event.value !== undefined && event.value !== null && typeof event.value !== 'string') {
    fail('"value" must be a string or null');
  }
  if (event.expected !== undefined && event.expected !== null && typeof event.expected !== 'string') {
    fail('"expected" must be a string or null');
  }
  if (event.applied !== undefined && typeof event.applied !== 'boolean') fail('"applied" must be true or false');
  if (event.timeMs !== undefined && !Number.isFinite(event.timeMs)) fail('"timeMs" must be a number');
}

function invocationCall(event: HistoryEvent, fail: (message: string) => never): RegisterCall {
  if (event.op === undefined) return fail('an invoke needs "op"');
  if (event.key === undefined) return fail('an invoke needs "key"');
  if (event.applied !== undefined) fail('"applied" belongs on the ok of a cput');
  const value = event.value;
  switch (event.op) {
    case 'get':
    case 'delete':
      if (value !== undefined || event.expected !== undefined) fail(`a ${event.op} takes no "value" or "expected"`);
      return { f: CALL_BY_OP[event.op] } as RegisterCall;
    case 'put':
      if (typeof value !== 'string') fail('a put needs a string "value"');
      if (event.expected !== undefined) fail('a put takes no "expected"');
      return { f: 'write', value: value! };
    case 'cput':
      if (typeof value !== 'string') fail('a cput needs a string "value"');
      if (event.expected === undefined) fail('a cput needs "expected" (null for create-if-absent)');
      return { f: 'cas', expected: event.expected!, value: value! };
  }
}

/** A completion may repeat its invocation's fields, so a recorder can copy them; they must agree. */
function checkRepeatedFields(event: HistoryEvent, invoked: OpenCall, fail: (message: string) => never): void {
  if (event.op !== undefined && event.op !== invoked.op) fail(`${event.type} of ${event.op} answers a ${invoked.op}`);
  if (event.key !== undefined && event.key !== invoked.key) {
    fail(`${event.type} names key ${JSON.stringify(event.key)}, its invoke ${JSON.stringify(invoked.key)}`);
  }
  if (event.expected !== undefined && event.expected !== invoked.expected) fail('"expected" differs from its invoke');
  if (invoked.op !== 'get' && event.value !== undefined && event.value !== invoked.value) {
    fail('"value" differs from its invoke');
  }
  if (event.applied !== undefined && (event.type !== 'ok' || invoked.op !== 'cput')) {
    fail('"applied" belongs on the ok of a cput');
  }
}

function completion(event: HistoryEvent, invoked: OpenCall | undefined, fail: (message: string) => never): Completion {
  if (event.type === 'fail') return { outcome: 'fail' };
  if (event.type === 'info') return { outcome: 'info' };
  if (invoked?.op === 'get') {
    if (event.value === undefined) fail('an ok get needs "value" (null when absent)');
    return { outcome: 'ok', readValue: event.value as RegisterValue };
  }
  return event.applied === undefined ? { outcome: 'ok' } : { outcome: 'ok', applied: event.applied };
}
