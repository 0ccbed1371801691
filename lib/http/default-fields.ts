/**
 * Header fields a server adds to every response it sends (security policy, for one), unless
 * the handler set a field of the same name itself: a handler that serves something other than
 * the app (a user's file, a message's HTML) states a policy of its own, which replaces the
 * server's. The server's own refusals (parse errors, too many connections) carry them too.
 */
import { checkHeaderName, checkHeaderValue } from './response-head.js';

/** One field, checked once when the server is built. */
export interface DefaultField {
  readonly lower: string;
  /** `Name: value\r\n`, ready for the head. */
  readonly line: string;
}

/** Checks and prepares `fields` ([name, value] pairs); a bad name or value throws. */
export function prepareDefaultFields(fields: readonly (readonly [string, string])[]): readonly DefaultField[] {
  const prepared: DefaultField[] = [];
  const seen = new Set<string>();
  for (const [name, value] of fields) {
    checkHeaderName(name);
    if (!checkHeaderValue(name, value)) throw new TypeError(`default header ${name} must be ASCII`);
    const lower = name.toLowerCase();
    if (seen.has(lower)) throw new TypeError(`default header ${name} is given twice`);
    seen.add(lower);
    prepared.push({ lower, line: `${name}: ${value}\r\n` });
  }
  return prepared;
}

/** Every default field's line, for replies no handler touched. */
export function defaultFieldLines(fields: readonly DefaultField[]): string {
  let lines = '';
  for (const field of fields) lines += field.line;
  return lines;
}
