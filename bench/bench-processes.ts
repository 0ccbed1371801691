/** Processes the benchmarks start: free ports, waiting for a line a child prints, Redis. */
import { spawn, type ChildProcess } from 'node:child_process';
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

/**
 * The reference run's Redis, durable like the store: the append-only file fsynced before each
 * reply (--appendonly yes --appendfsync always), in `dir`, on a free port.
 */
export async function startRedis(dir: string, waitMs: number): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes',
    '--appendfsync', 'always', '--dir', dir, '--save', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLine(child, /Ready to accept connections/, 'redis-server', waitMs);
  } catch (err) {
    await stopChildren([child]);
    throw err;
  }
  return { child, port };
}

/** kill -9 of every child still running, resolved once they have all exited. */
export async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null
    ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
}
