/**
 * `penncloud lincheck FILE [--timeout-ms N]`: checks a recorded history (our JSON lines or
 * a Jepsen log, told apart by the first line) for linearizability. stdout carries the
 * verdict alone, so scripts can compare it; the details go to stderr.
 *
 * Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (the time or memory bound was
 * hit; also a wrong command line, as for every command), 3 the file could not be read or
 * holds a malformed line.
 */
import { readFile } from 'node:fs/promises';
import { isPennError } from '../protocol/errors.js';
import { checkHistory, CHECK_TIMEOUT_MS_DEFAULT, type CheckResult } from '../lincheck/check-history.js';
import { describeViolation } from '../lincheck/describe-violation.js';
import { MALFORMED_HISTORY } from '../lincheck/history-builder.js';
import { parseHistory } from '../lincheck/parse-history.js';
import { intOption, UsageError, type Command, type ParsedArgs } from './command.js';

/** Exit codes of `penncloud lincheck`, one per answer. */
export const LINCHECK_EXIT = {
  linearizable: 0,
  notLinearizable: 1,
  unknown: 2,
  badInput: 3,
} as const;

export const lincheckCommand: Command = {
  name: 'lincheck',
  summary: 'check a history for linearizability (exit 0 yes, 1 no, 2 unknown, 3 bad file)',
  usage: 'FILE [--timeout-ms N]',
  options: [
    {
      name: 'timeout-ms',
      value: 'N',
      description: `time bound; past it the answer is "unknown" (default ${CHECK_TIMEOUT_MS_DEFAULT})`,
    },
  ],
  run: runLincheck,
};

async function runLincheck(args: ParsedArgs): Promise<number> {
  if (args.positionals.length !== 1) throw new UsageError('expects exactly one FILE');
  const file = args.positionals[0]!;
  const timeoutMs = intOption(args, 'timeout-ms', CHECK_TIMEOUT_MS_DEFAULT);
  if (timeoutMs <= 0) throw new UsageError('option --timeout-ms must be positive');

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    process.stderr.write(`penncloud lincheck: cannot read ${file}: ${why}\n`);
    return LINCHECK_EXIT.badInput;
  }
  let operations;
  try {
    operations = parseHistory(text).operations;
  } catch (err) {
    if (!isPennError(err) || err.reason !== MALFORMED_HISTORY) throw err;
    process.stderr.write(`penncloud lincheck: ${file}: ${err.message}\n`);
    return LINCHECK_EXIT.badInput;
  }
  const result = checkHistory(operations, { timeoutMs });
  return reportLincheck(result, timeoutMs);
}

/** Prints the verdict on stdout and what explains it on stderr; returns the exit code. */
function reportLincheck(result: CheckResult, timeoutMs: number): number {
  switch (result.verdict) {
    case 'linearizable':
      process.stdout.write('linearizable\n');
      return LINCHECK_EXIT.linearizable;
    case 'not-linearizable':
      process.stdout.write('not linearizable\n');
      process.stderr.write(describeViolation(result.violation).join('\n') + '\n');
      return LINCHECK_EXIT.notLinearizable;
    case 'unknown':
      process.stdout.write('unknown\n');
      for (const { key, reason } of result.unknownKeys) {
        const why = reason === 'timeout' ? `no answer within ${timeoutMs} ms` : 'search cache full';
        process.stderr.write(`key ${JSON.stringify(key)}: ${why}\n`);
      }
      return LINCHECK_EXIT.unknown;
  }
}
