/**
 * Starting real `penncloud` processes in tests: free ports, temporary configurations and data
 * directories, waiting for the READY line (bounded), and killing everything afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { roleNodeFlags } from '../../lib/cli/role-node-flags.js';
import { CLUSTER_SECRET_FILE, loadClusterSecret } from '../../lib/cli/cluster-secret.js';

/** The built entry point every role runs from. */
export const PENNCLOUD_BIN = fileURLToPath(new URL('../../bin/penncloud.js', import.meta.url));
/** The repository root (two levels above dist/test/support). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** How long a test waits for a role's READY line; generous for a loaded 2-core machine. */
export const ROLE_READY_TIMEOUT_MS = 30_000;
/** How long a test waits for a role to exit after a signal. */
export const ROLE_EXIT_TIMEOUT_MS = 20_000;

/** Ports handed out by this process: never handed out twice, so one test config has no clash. */
const portsGiven = new Set<number>();
/** Attempts to find a port not handed out before. */
const FREE_PORT_ATTEMPTS_MAX = 100;

/** A port that was free a moment ago (the OS picked it for a listener we then closed). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < FREE_PORT_ATTEMPTS_MAX; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error('no port'));
          return;
        }
        server.close(() => resolve(address.port));
      });
    });
    if (!portsGiven.has(port)) {
      portsGiven.add(port);
      return port;
    }
  }
  throw new Error(`no unused port after ${FREE_PORT_ATTEMPTS_MAX} attempts`);
}

/**
 * The cluster secret of the roles started on `dataDir` (made now if no role made it yet, as the
 * first role would): what a test's own clients prove to them.
 */
export function clusterSecretOf(dataDir: string): Buffer {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return loadClusterSecret(join(dataDir, CLUSTER_SECRET_FILE), true);
}

/** A fresh temporary directory, removed by `cleanupTempDirs`. */
const tempDirs: string[] = [];
export function tempDir(prefix = 'penncloud-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
export function cleanupTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A minimal valid configuration with every port free: `frontends` frontends, one group of
 * three KV nodes, one tablet. `patch` may change anything before it is written.
 */
export async function writeTestConfig(dir: string, options: { frontends?: number; patch?: (c: Record<string, any>) => void } = {}): Promise<string> {
  const frontends = [];
  for (let i = 1; i <= (options.frontends ?? 1); i++) frontends.push({ id: i, host: '127.0.0.1', port: await freePort() });
  const nodes = [];
  for (let i = 0; i < 3; i++) nodes.push({ id: i, host: '127.0.0.1', port: await freePort() });
  const config: Record<string, any> = {
    frontends,
    dispatcher: { host: '127.0.0.1', port: await freePort() },
    coordinator: { host: '127.0.0.1', port: await freePort() },
    kv: { nodes, groups: [[0, 1, 2]], tablets: [{ start: '', group: 0 }] },
    smtp: { host: '127.0.0.1', port: await freePort() },
    pop3: { host: '127.0.0.1', port: await freePort() },
    imap: { host: '127.0.0.1', port: await freePort() },
    supervisor: { host: '127.0.0.1', port: await freePort() },
  };
  options.patch?.(config);
  const file = join(dir, 'conf.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** A running role: its process, everything it printed so far, and its READY detail. */
export interface RoleProcess {
  child: ChildProcess;
  ready: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

const running = new Set<ChildProcess>();

/**
 * Spawns `penncloud ...args` and resolves once it prints its READY line. `launcher` is a command
 * that runs node in turn and becomes it (such as `ip netns exec NS`), so the child is the role.
 */
export function startRole(args: string[], env: NodeJS.ProcessEnv = {}, launcher: readonly string[] = []): Promise<RoleProcess> {
  const nodeArgs = [...roleNodeFlags(args[0]), PENNCLOUD_BIN, ...args];
  const [file, ...fileArgs] = launcher.length === 0 ? [process.execPath, ...nodeArgs] : [...launcher, process.execPath, ...nodeArgs];
  const child = spawn(file!, fileArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PENNCLOUD_LOG: process.env.PENNCLOUD_LOG ?? 'warn', ...env },
  });
  running.add(child);
  let out = '';
  let err = '';
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`penncloud ${args.join(' ')}: no READY line within ${ROLE_READY_TIMEOUT_MS} ms\n${err}`));
    }, ROLE_READY_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /^READY \S+ (.*)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, ready: match[1]!, stdout: () => out, stderr: () => err, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`penncloud ${args.join(' ')} exited (${code}) before it was ready\n${err}`));
    });
  });
}

/** Runs `penncloud ...args` to completion and returns its exit code and output. */
export function runPenncloud(args: string[], input?: Buffer | string): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PENNCLOUD_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`penncloud ${args.join(' ')} did not finish within ${ROLE_EXIT_TIMEOUT_MS} ms`));
    }, ROLE_EXIT_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.end(input ?? '');
  });
}

/** Sends `signal` and waits (bounded) for the exit; SIGKILL if it does not come. */
export async function stopRole(role: RoleProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (role.child.exitCode !== null || role.child.signalCode !== null) return role.exited;
  role.child.kill(signal);
  const timer = setTimeout(() => role.child.kill('SIGKILL'), ROLE_EXIT_TIMEOUT_MS);
  const code = await role.exited;
  clearTimeout(timer);
  return code;
}

/** Kills every role a test started and is still running (for afterEach). */
export function killAllRoles(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** True when something accepts TCP connections on the port (127.0.0.1). */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
