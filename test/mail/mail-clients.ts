/**
 * Real mail clients driven from tests: swaks, Python's smtplib and poplib, curl and fetchmail,
 * each run as a process with a bounded time, plus a raw socket for POP3 transcripts.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';

/** How long one client run may take. */
export const CLIENT_TIMEOUT_MS = 60_000;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; never rejects on a non-zero exit (the test looks at it). */
export function run(file: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: CLIENT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'latin1', env: { ...process.env, ...options.env } },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error(`${file} is not installed (.ci/run installs it)`));
          return;
        }
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
        resolve({ code, stdout, stderr });
      });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** A Python snippet reading its JSON arguments from standard input; its stdout is returned. */
export function python(code: string, args: unknown): Promise<RunResult> {
  return run('python3', ['-c', code], { input: JSON.stringify(args) });
}

/** Writes `lines` on a raw POP3 connection (all at once: pipelined) and collects the replies until `until` appears. */
export function pop3Raw(port: number, lines: string[], until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`POP3 transcript incomplete: ${text}`));
    }, CLIENT_TIMEOUT_MS);
    let greeted = false;
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!greeted && text.includes('\r\n')) {
        greeted = true;
        socket.write(lines.map((l) => `${l}\r\n`).join(''));
      }
      if (until.test(text)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
