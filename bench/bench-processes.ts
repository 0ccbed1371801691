/** Processes the benchmarks start: free ports and waiting for a line a child prints. */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** Resolves once `child` prints a line matching `pattern`; fails if it exits or `waitMs` passes. */
export function waitForLine(child: ChildProcess, pattern: RegExp, what: string, waitMs: number): Promise<void> {
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`${what} did not start in ${waitMs} ms:\n${out}`)), waitMs);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited with ${code}:\n${out}`));
    });
  });
}
