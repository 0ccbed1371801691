/**
 * The linearizability checker: a history model, parsers for our JSON-lines format and
 * Jepsen's logs, and a per-key Wing-Gong/Lowe search bounded in time and memory.
 *
 * ```ts
 * const events: HistoryEvent[] = [];
 * events.push({ type: 'invoke', process: 1, op: 'put', key: 'k1', value: 'v1' });
 * events.push({ type: 'ok', process: 1 });
 * const result = checkHistory(operationsFromEvents(events), { timeoutMs: 10_000 });
 * ```
 */
export { checkHistory, statesAlong, CHECK_TIMEOUT_MS_DEFAULT } from './check-history.js';
export type { CheckOptions, CheckResult, UnknownReason, Violation, ViolationKey } from './check-history.js';
export type { DeadEnd } from './key-search.js';
export type { Overwrite, StaleObservation } from './stale-observation.js';
export { describeViolation, operationLine } from './describe-violation.js';
export { HistoryBuilder, MALFORMED_HISTORY, type Completion } from './history-builder.js';
export { describeOperation, showValue, NEVER_COMPLETED } from './history.js';
export type { EventSource, Operation, Outcome, RegisterCall, RegisterValue } from './history.js';
export { formatHistoryEvent, operationsFromEvents, parseHistoryJson } from './history-json.js';
export { writtenValue } from './register-model.js';
export type { HistoryEvent, HistoryEventType, KvOperationName } from './history-json.js';
export { JEPSEN_KEY, parseJepsenHistory } from './jepsen-parser.js';
export { CACHE_BYTES_MAX } from './linearization-cache.js';
export { detectHistoryFormat, parseHistory, type HistoryFormat, type ParsedHistory } from './parse-history.js';
