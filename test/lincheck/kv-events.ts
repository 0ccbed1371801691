/** Builders of history events for hand-written histories, in the JSON-lines format. */
import type { HistoryEvent } from '../../lib/lincheck/index.js';
import { checkHistory, formatHistoryEvent, parseHistoryJson, type CheckOptions, type CheckResult } from '../../lib/lincheck/index.js';

export const get = (process: number, key: string): HistoryEvent => ({ type: 'invoke', process, op: 'get', key });
export const put = (process: number, key: string, value: string): HistoryEvent => ({
  type: 'invoke',
  process,
  op: 'put',
  key,
  value,
});
export const cput = (process: number, key: string, expected: string | null, value: string): HistoryEvent => ({
  type: 'invoke',
  process,
  op: 'cput',
  key,
  expected,
  value,
});
export const del = (process: number, key: string): HistoryEvent => ({ type: 'invoke', process, op: 'delete', key });

/** An ok; for a get, `value` is what it read (null = absent). */
export const ok = (process: number, value?: string | null): HistoryEvent =>
  value === undefined ? { type: 'ok', process } : { type: 'ok', process, value };
export const notApplied = (process: number): HistoryEvent => ({ type: 'ok', process, applied: false });
export const fail = (process: number): HistoryEvent => ({ type: 'fail', process, error: 'UNAVAILABLE' });
export const info = (process: number): HistoryEvent => ({ type: 'info', process, error: 'TIMEOUT' });

/** The events as a file's text, one JSON line each. */
export function historyText(events: readonly HistoryEvent[]): string {
  return events.map(formatHistoryEvent).join('');
}

/** Checks `events` the way the CLI would: written as JSON lines, parsed back, checked. */
export function check(events: readonly HistoryEvent[], options?: CheckOptions): CheckResult {
  return checkHistory(parseHistoryJson(historyText(events)), options);
}

/**
 * `width` puts of distinct values, all concurrent, then two gets, one after the other,
 * that see two different ones of them. Each read alone is possible, so no quick argument
 * refutes it; only trying every order of the puts (about width * 2^width states) shows
 * that no order ends with both values last.
 */
export function exhaustingHistory(width: number, key = 'k'): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (let p = 0; p < width; p++) events.push(put(p, key, `v${p}`));
  for (let p = 0; p < width; p++) events.push(ok(p));
  events.push(get(width, key), ok(width, 'v0'), get(width, key), ok(width, 'v1'));
  return events;
}
