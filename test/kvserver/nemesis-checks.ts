/**
 * Test support for the nemesis: what is checked after the faults. The history goes to
 * `penncloud lincheck`; the last acknowledged write of a key, when nothing could overwrite
 * it, must be what the reads after a restart of the whole cluster return; and replicas read
 * one at a time must hold the same rows.
 */
import { spawn } from 'node:child_process';
import { operationsFromEvents, writtenValue, type HistoryEvent, type Operation, type RegisterValue } from '../../lib/lincheck/index.js';
import { PENNCLOUD_BIN } from '../support/roles.js';

/** Differences listed at most in a failure message. */
const DIFFERENCES_SHOWN_MAX = 20;

/** True for an operation that may have changed its key: a write not known to have done nothing. */
function mayHaveWritten(op: Operation): boolean {
  return op.call.f !== 'read' && op.outcome !== 'fail' && !(op.outcome === 'ok' && op.applied === false);
}

/**
 * Per key, the value its last write certainly left: the write must be acknowledged (`ok`, and
 * applied), and every other write that may have taken effect on the key must have completed
 * before it was invoked. A write whose outcome is unknown (`info`, or still pending) may take
 * effect at any later instant, so a key with one invoked before its last acknowledged write
 * completed, or after, has no such value and is left out.
 */
export function settledValues(events: readonly HistoryEvent[]): Map<string, { value: RegisterValue; operation: Operation }> {
  const writesByKey = new Map<string, Operation[]>();
  for (const op of operationsFromEvents(events)) {
    if (!mayHaveWritten(op)) continue;
    const writes = writesByKey.get(op.key) ?? [];
    writes.push(op);
    writesByKey.set(op.key, writes);
  }
  const settled = new Map<string, { value: RegisterValue; operation: Operation }>();
  for (const [key, writes] of writesByKey) {
    const last = writes.reduce((a, b) => (b.invokeAt > a.invokeAt ? b : a));
    if (last.outcome !== 'ok') continue;
    const value = writtenValue(last); // a write: never undefined
    if (value !== undefined && writes.every((w) => w === last || w.completeAt < last.invokeAt)) settled.set(key, { value, operation: last });
  }
  return settled;
}

/** Keys whose read differs from its settled value, described; empty when all agree. */
export function lostWrites(settled: ReturnType<typeof settledValues>, reads: ReadonlyMap<string, RegisterValue>, where: string): string[] {
  const problems: string[] = [];
  for (const [key, { value, operation }] of settled) {
    const read = reads.get(key);
    if (read === undefined) problems.push(`${where}: ${key} was not read`);
    else if (read !== value) {
      problems.push(`${where}: ${key} reads ${JSON.stringify(read)}, but its last acknowledged write `
        + `(process ${operation.process}, event ${operation.invokeAt}) left ${JSON.stringify(value)} and nothing could overwrite it`);
    }
  }
  return problems;
}

/**
 * Rows on which copies of the data differ from the first (each copy: row → value, named by
 * whose it is), described; empty when they are all the same.
 */
export function replicaDifferences(copies: ReadonlyMap<string, ReadonlyMap<string, RegisterValue>>): string[] {
  const [first, ...others] = [...copies];
  if (first === undefined) return [];
  const [firstName, firstRows] = first;
  const problems: string[] = [];
  for (const [name, rows] of others) {
    for (const row of new Set([...firstRows.keys(), ...rows.keys()])) {
      const a = firstRows.has(row) ? firstRows.get(row)! : 'no row';
      const b = rows.has(row) ? rows.get(row)! : 'no row';
      if (a !== b) problems.push(`${row}: ${firstName} holds ${JSON.stringify(a)}, ${name} holds ${JSON.stringify(b)}`);
    }
  }
  return problems;
}

/** At most DIFFERENCES_SHOWN_MAX lines of a list, saying how many more there were. */
export function shortList(lines: string[]): string {
  const shown = lines.slice(0, DIFFERENCES_SHOWN_MAX);
  if (lines.length > shown.length) shown.push(`... and ${lines.length - shown.length} more`);
  return shown.join('\n');
}

/** `penncloud lincheck FILE --timeout-ms N`, waited for at most a little longer than N. */
export function runLincheck(file: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PENNCLOUD_BIN, 'lincheck', file, '--timeout-ms', String(timeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // The checker's own bound plus time to read the file and start.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`penncloud lincheck did not finish within ${timeoutMs + 30_000} ms`));
    }, timeoutMs + 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
