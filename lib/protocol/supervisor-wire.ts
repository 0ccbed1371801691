/**
 * The control protocol of `penncloud up` (newline-delimited JSON on `supervisor.port`): the
 * admin console lists the processes it runs and stops, starts or restarts one of them. A process
 * stopped this way stays stopped until it is started again; one that dies on its own is started
 * again after a doubling delay, unless it keeps dying (a crash loop, left down).
 */

/** `crash-loop`: it died too often in a short time and is left down until the admin starts it. */
export type ProcessState = 'running' | 'stopped' | 'exited' | 'crash-loop';

export interface ProcessInfo {
  /** e.g. "frontend-2", "kvnode-4", "coordinator". */
  name: string;
  state: ProcessState;
  pid: number | null;
  /** True when the admin stopped it (it is not restarted by anything else). */
  stoppedByAdmin: boolean;
}

export type SupervisorRequest =
  | { id: number; type: 'processes' }
  | { id: number; type: 'stop'; name: string }
  | { id: number; type: 'start'; name: string }
  /** Stops the process if it runs and starts it anew (a new pid), or starts it if it does not. */
  | { id: number; type: 'restart'; name: string };

export type SupervisorReply =
  | { id: number; type: 'processes'; processes: ProcessInfo[] }
  | { id: number; type: 'ok' }
  | { id: number; type: 'error'; message: string };
