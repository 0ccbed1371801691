/**
 * The control protocol of `penncloud up` (newline-delimited JSON on `supervisor.port`): the
 * admin console lists the processes it runs and stops or starts one of them. A process stopped
 * this way stays stopped until it is started again.
 */

export type ProcessState = 'running' | 'stopped' | 'exited';

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
  | { id: number; type: 'start'; name: string };

export type SupervisorReply =
  | { id: number; type: 'processes'; processes: ProcessInfo[] }
  | { id: number; type: 'ok' }
  | { id: number; type: 'error'; message: string };
