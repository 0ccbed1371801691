/**
 * Reads a history in either format the checker knows, telling them apart by the first
 * non-blank line: a JSON object starts our format, an `INFO jepsen.util -` line Jepsen's.
 */
import { malformedHistory } from './history-builder.js';
import type { Operation } from './history.js';
import { parseHistoryJson } from './history-json.js';
import { isJepsenLine, parseJepsenHistory } from './jepsen-parser.js';

/** The formats `parseHistory` recognises. */
export type HistoryFormat = 'penncloud-json' | 'jepsen';

/** A parsed history and the format it was written in. */
export interface ParsedHistory {
  readonly format: HistoryFormat;
  readonly operations: Operation[];
}

/** The format of `text`, or `undefined` when the first event line is neither. */
export function detectHistoryFormat(text: string): HistoryFormat | undefined {
  const first = firstEventLine(text);
  if (first === undefined) return 'penncloud-json';
  if (first.text.trimStart().startsWith('{')) return 'penncloud-json';
  if (isJepsenLine(first.text)) return 'jepsen';
  return undefined;
}

/**
 * Parses `text` in whichever format it is in; an empty file is an empty history. Throws a
 * PennError (BAD_REQUEST) naming the first bad line.
 */
export function parseHistory(text: string): ParsedHistory {
  const format = detectHistoryFormat(text);
  if (format === 'jepsen') return { format, operations: parseJepsenHistory(text) };
  if (format === 'penncloud-json') return { format, operations: parseHistoryJson(text) };
  const first = firstEventLine(text)!;
  throw malformedHistory(
    { line: first.line },
    0,
    'neither a JSON history event nor a Jepsen log line (see docs/history-format.md)',
  );
}

function firstEventLine(text: string): { text: string; line: number } | undefined {
  const lines = text.split(/\r?\n/);
  const index = lines.findIndex((line) => line.trim() !== '');
  return index === -1 ? undefined : { text: lines[index]!, line: index + 1 };
}
