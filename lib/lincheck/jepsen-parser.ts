/**
 * Reads the histories Jepsen logs for its cas-register test, one event per line:
 * `INFO  jepsen.util - PROCESS	:TYPE	:F	VALUE` (tabs or spaces), where TYPE is invoke, ok,
 * fail or info, F is read, write or cas, and VALUE is `nil`, a value, `[FROM TO]` for a cas,
 * or `:timed-out`. The whole file is one register, under the key `JEPSEN_KEY`.
 */
import { HistoryBuilder, malformedHistory, type Completion } from './history-builder.js';
import type { Operation, RegisterCall, RegisterValue } from './history.js';

/** The key a Jepsen register is checked under. */
export const JEPSEN_KEY = 'register';

const JEPSEN_LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.*?)\s*$/;
const CAS_ARGUMENT = /^\[\s*(\S+)\s+(\S+)\s*\]$/;

/** True when `line` looks like a Jepsen history line (used to detect the format). */
export function isJepsenLine(line: string): boolean {
  return /^INFO\s+jepsen\.util\s+-/.test(line);
}

/** Parses a whole Jepsen log; throws a PennError naming the line of the first bad event. */
export function parseJepsenHistory(text: string): Operation[] {
  const builder = new HistoryBuilder();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    parseJepsenLine(builder, raw, index + 1);
  });
  return builder.build();
}

function parseJepsenLine(builder: HistoryBuilder, raw: string, line: number): void {
  const m = JEPSEN_LINE.exec(raw);
  if (m === null) throw malformedHistory({ line }, 0, `not a Jepsen history line: ${truncate(raw)}`);
  const process = Number(m[1]);
  const type = m[2]!;
  const f = m[3] as RegisterCall['f'];
  const value = m[4]!;
  if (type === 'invoke') {
    builder.invoke(process, JEPSEN_KEY, jepsenCall(f, value, line), { line });
    return;
  }
  builder.complete(process, jepsenCompletion(type, f, value, line), { line }, f);
}

function jepsenCall(f: RegisterCall['f'], value: string, line: number): RegisterCall {
  switch (f) {
    case 'read':
      return { f: 'read' };
    case 'write':
      return { f: 'write', value: jepsenValue(value, line) ?? badValue(value, line) };
    case 'cas': {
      const m = CAS_ARGUMENT.exec(value);
      if (m === null) throw malformedHistory({ line }, 0, `a cas needs [FROM TO], got ${truncate(value)}`);
      return { f: 'cas', expected: jepsenValue(m[1]!, line), value: jepsenValue(m[2]!, line) ?? badValue(value, line) };
    }
    default:
      throw malformedHistory({ line }, 0, `unknown operation :${String(f)}`);
  }
}

/**
 * Jepsen's `:fail` means the operation certainly did not take effect (a cas whose
 * comparison failed wrote nothing), so it is dropped like any other failure.
 */
function jepsenCompletion(type: string, f: RegisterCall['f'], value: string, line: number): Completion {
  if (type === 'fail') return { outcome: 'fail' };
  if (type === 'info') return { outcome: 'info' };
  if (f === 'read') return { outcome: 'ok', readValue: jepsenValue(value, line) };
  return { outcome: 'ok' };
}

/** A Jepsen value: `nil` is absent; anything else is kept as its text. */
function jepsenValue(text: string, line: number): RegisterValue {
  if (text === 'nil') return null;
  if (text === '' || text.startsWith(':')) throw malformedHistory({ line }, 0, `not a value: ${truncate(text)}`);
  return text;
}

function badValue(text: string, line: number): never {
  throw malformedHistory({ line }, 0, `cannot write nil (got ${truncate(text)})`);
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
