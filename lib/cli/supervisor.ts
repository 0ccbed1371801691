/**
 * Runs PennCloud roles as child processes of one `penncloud` parent: prefixes each child's log
 * lines with its name, waits for its `READY` line (bounded), and stops children gracefully
 * (SIGTERM, then SIGKILL after a bound).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ProcessInfo } from '../protocol/supervisor-wire.js';
import { SUPERVISED_ENV } from './role-context.js';
import { roleNodeFlags } from './role-node-flags.js';

/** How long a role may take from spawn to its READY line. */
export const READY_TIMEOUT_MS = 60_000;
/** How long a role may take to stop after SIGTERM before it is killed. */
export const STOP_TIMEOUT_MS = 15_000;

export interface RoleSpec {
  /** Name used as the log prefix, e.g. "frontend-1". */
  name: string;
  /** Arguments after `penncloud`, e.g. ["frontend", "--id", "1", "--conf", ...]. */
  args: string[];
}

interface Running {
  spec: RoleSpec;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Set while the parent itself is stopping this child, so the exit is not reported. */
  stopping: boolean;
}

export class Supervisor {
  private readonly running = new Map<string, Running>();
  /** Every role ever started here, by name, so a stopped one can be started again. */
  private readonly known = new Map<string, RoleSpec>();
  /** Roles the admin stopped: they stay stopped until the admin starts them. */
  private readonly adminStopped = new Set<string>();

  /**
   * @param entry the penncloud entry script (dist/bin/penncloud.js)
   * @param onUnexpectedExit called when a child exits without being asked to
   */
  constructor(
    private readonly entry: string,
    private readonly onUnexpectedExit: (name: string, code: number | null) => void,
  ) {}

  /** Starts a role and resolves with the detail of its READY line. */
  start(spec: RoleSpec, readyTimeoutMs = READY_TIMEOUT_MS): Promise<string> {
    if (this.running.has(spec.name)) return Promise.reject(new Error(`${spec.name} is already running`));
    this.known.set(spec.name, spec);
    // stdin is a pipe the child watches: when this process ends, however it ends, the child
    // sees end-of-file and stops (see onShutdownSignal).
    const child = spawn(process.execPath, [...roleNodeFlags(spec.args[0]), this.entry, ...spec.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, [SUPERVISED_ENV]: '1' },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? null : 0))));
    const entry: Running = { spec, child, exited, stopping: false };
    this.running.set(spec.name, entry);
    const prefix = `[${spec.name}] `;
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(prefix + line + '\n'));

    return new Promise<string>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        reject(new Error(`${spec.name} did not report ready within ${readyTimeoutMs} ms`));
      }, readyTimeoutMs);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        process.stdout.write(prefix + line + '\n');
        const match = /^READY (\S+) (.*)$/.exec(line);
        if (!ready && match) {
          ready = true;
          clearTimeout(timer);
          resolve(match[2]!);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        if (this.running.get(spec.name) === entry) this.running.delete(spec.name);
        if (!ready) reject(new Error(`${spec.name} exited with code ${code} before it was ready`));
        else if (!entry.stopping) this.onUnexpectedExit(spec.name, code);
      });
    });
  }

  /** Names of the children running now. */
  names(): string[] {
    return [...this.running.keys()];
  }

  /** Every known role with its state, in the order they were first started. */
  processes(): ProcessInfo[] {
    return [...this.known.keys()].map((name) => {
      const entry = this.running.get(name);
      return {
        name,
        state: entry !== undefined ? 'running' : this.adminStopped.has(name) ? 'stopped' : 'exited',
        pid: entry?.child.pid ?? null,
        stoppedByAdmin: this.adminStopped.has(name),
      };
    });
  }

  /** The admin stops a role: it stays stopped until startByAdmin. */
  async stopByAdmin(name: string): Promise<void> {
    if (!this.known.has(name)) throw new Error(`no process named ${name}`);
    this.adminStopped.add(name);
    await this.stop(name);
  }

  /** The admin starts a role it stopped (or one that exited); resolves when it is ready. */
  async startByAdmin(name: string): Promise<void> {
    const spec = this.known.get(name);
    if (spec === undefined) throw new Error(`no process named ${name}`);
    this.adminStopped.delete(name);
    if (this.running.has(name)) return;
    await this.start(spec);
  }

  /** Stops one child: SIGTERM, then SIGKILL after `timeoutMs`. Resolves when it has exited. */
  async stop(name: string, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    const entry = this.running.get(name);
    if (entry === undefined) return;
    entry.stopping = true;
    entry.child.kill('SIGTERM');
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), timeoutMs);
    await entry.exited;
    clearTimeout(timer);
  }

  /** Stops children in the reverse of the order given (dependents first). */
  async stopAll(order: string[] = this.names()): Promise<void> {
    for (const name of [...order].reverse()) await this.stop(name);
    await Promise.all(this.names().map((n) => this.stop(n)));
  }
}
