/**
 * Runs PennCloud roles as child processes of one `penncloud` parent: prefixes each child's log
 * lines with its name, waits for its `READY` line (bounded), restarts a role that dies on its own
 * (after a doubling delay; a role that keeps dying is left down and reported as a crash loop),
 * and stops children gracefully (SIGTERM, then SIGKILL after a bound).
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

/** First wait before a role that died is started again; it doubles with each death in the window. */
export const RESTART_BACKOFF_MIN_MS = 500;
/** Longest wait before a restart. */
export const RESTART_BACKOFF_MAX_MS = 30_000;
/** Deaths counted together: a role that stays up this long starts its count afresh. */
export const CRASH_WINDOW_MS = 120_000;
/** Deaths in one window past which the role is left down (a crash loop), not spun. */
export const CRASHES_PER_WINDOW_MAX = 5;

/** How the supervisor brings dead roles back; tests shorten the waits. */
export interface RestartPolicy {
  backoffMinMs: number;
  backoffMaxMs: number;
  crashWindowMs: number;
  crashesPerWindowMax: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  backoffMinMs: RESTART_BACKOFF_MIN_MS,
  backoffMaxMs: RESTART_BACKOFF_MAX_MS,
  crashWindowMs: CRASH_WINDOW_MS,
  crashesPerWindowMax: CRASHES_PER_WINDOW_MAX,
};

/** What became of a role that died on its own. */
export type DeathOutcome = { restartInMs: number } | { crashLoop: true; deaths: number };

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
  /** When each role died on its own, within the crash window. */
  private readonly deaths = new Map<string, number[]>();
  /** Roles left down after too many deaths, until the admin starts them. */
  private readonly crashLooping = new Set<string>();
  /** Restarts waiting for their delay. */
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private shuttingDown = false;

  /**
   * @param entry the penncloud entry script (dist/bin/penncloud.js)
   * @param onUnexpectedExit called when a child exits without being asked to (or fails to
   *   start again), with what happens next
   */
  constructor(
    private readonly entry: string,
    private readonly onUnexpectedExit: (name: string, code: number | null, next: DeathOutcome) => void,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
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
        else if (!entry.stopping) this.died(spec, code);
      });
    });
  }

  /** A role died on its own: start it again after a delay, unless it keeps dying. */
  private died(spec: RoleSpec, code: number | null): void {
    if (this.shuttingDown || this.adminStopped.has(spec.name)) return;
    const nowMs = Date.now();
    const recent = (this.deaths.get(spec.name) ?? []).filter((t) => nowMs - t < this.policy.crashWindowMs);
    recent.push(nowMs);
    this.deaths.set(spec.name, recent);
    if (recent.length > this.policy.crashesPerWindowMax) {
      this.crashLooping.add(spec.name);
      this.onUnexpectedExit(spec.name, code, { crashLoop: true, deaths: recent.length });
      return;
    }
    const delayMs = Math.min(this.policy.backoffMaxMs, this.policy.backoffMinMs * 2 ** (recent.length - 1));
    this.onUnexpectedExit(spec.name, code, { restartInMs: delayMs });
    this.restartTimers.set(spec.name, setTimeout(() => {
      this.restartTimers.delete(spec.name);
      if (this.shuttingDown || this.adminStopped.has(spec.name) || this.running.has(spec.name)) return;
      // A start that fails (exits before READY, or never says it) is one more death.
      this.start(spec).catch(() => {
        this.stop(spec.name).then(() => this.died(spec, null), () => this.died(spec, null));
      });
    }, delayMs));
  }

  private cancelRestart(name: string): void {
    const timer = this.restartTimers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.restartTimers.delete(name);
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
        state: entry !== undefined ? 'running' : this.adminStopped.has(name) ? 'stopped' : this.crashLooping.has(name) ? 'crash-loop' : 'exited',
        pid: entry?.child.pid ?? null,
        stoppedByAdmin: this.adminStopped.has(name),
      };
    });
  }

  /** The admin stops a role: it stays stopped until startByAdmin. */
  async stopByAdmin(name: string): Promise<void> {
    if (!this.known.has(name)) throw new Error(`no process named ${name}`);
    this.adminStopped.add(name);
    this.cancelRestart(name);
    await this.stop(name);
  }

  /** The admin starts a role it stopped (or one that exited); resolves when it is ready. */
  async startByAdmin(name: string): Promise<void> {
    const spec = this.known.get(name);
    if (spec === undefined) throw new Error(`no process named ${name}`);
    this.adminStopped.delete(name);
    this.crashLooping.delete(name);
    this.deaths.delete(name);
    this.cancelRestart(name);
    if (this.running.has(name) && !this.running.get(name)!.stopping) return;
    // A role still on its way down (a graceful stop under way) is started once it is gone.
    await this.stop(name);
    await this.start(spec);
  }

  /** The admin restarts a role: a running one is stopped and started anew (a new process). */
  async restartByAdmin(name: string): Promise<void> {
    if (!this.known.has(name)) throw new Error(`no process named ${name}`);
    await this.stop(name);
    await this.startByAdmin(name);
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
    this.shuttingDown = true;
    for (const name of [...this.restartTimers.keys()]) this.cancelRestart(name);
    for (const name of [...order].reverse()) await this.stop(name);
    await Promise.all(this.names().map((n) => this.stop(n)));
  }
}
