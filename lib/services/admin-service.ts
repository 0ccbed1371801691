/**
 * The operator's view and controls: every frontend and storage node with its state, the
 * tablet map with each group's primary and secondaries, raw data pages, and disabling or
 * restarting a node. Storage node states come from the coordinator, their figures from the
 * nodes themselves; frontends are probed; processes are stopped and started through the
 * `penncloud up` supervisor when there is one.
 */
import { PennError } from '../protocol/errors.js';
import type { ClusterMap, NodeStateReport } from '../protocol/coordinator-wire.js';
import type { KvNodeStatus } from '../protocol/kv-wire.js';
import type { ProcessInfo } from '../protocol/supervisor-wire.js';
import { DATA_PAGE_DEFAULT, DATA_PAGE_MAX, rawPage, type RawPage, type RawStore } from './admin-data.js';

/** A control peer that answers JSON requests (the coordinator, the supervisor). */
export interface ControlPeer {
  request(message: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface AdminOptions {
  store: RawStore & { status(node: { host: string; port: number }): Promise<KvNodeStatus> };
  coordinator: ControlPeer;
  /** Null when the roles do not run under `penncloud up`. */
  supervisor: ControlPeer | null;
  frontends: Array<{ id: number; publicUrl: string }>;
  /** Answers true when the frontend at `url` is alive (its /healthz answers). */
  probe(url: string): Promise<boolean>;
}

export interface FrontendState {
  id: string;
  url: string;
  state: 'ALIVE' | 'DOWN' | 'DISABLED';
}

export interface StorageNodeState extends NodeStateReport {
  name: string;
  /** What the node reports of itself, when it answers. */
  status: KvNodeStatus | null;
  process: ProcessInfo | null;
}

export class AdminService {
  constructor(private readonly options: AdminOptions) {}

  async nodes(): Promise<{ frontends: FrontendState[]; storage: StorageNodeState[]; supervised: boolean }> {
    const processes = await this.processes();
    const frontends = await Promise.all(this.options.frontends.map(async (f): Promise<FrontendState> => {
      const name = `frontend-${f.id}`;
      const proc = processes.find((p) => p.name === name);
      const alive = await this.options.probe(f.publicUrl);
      return { id: name, url: f.publicUrl, state: alive ? 'ALIVE' : proc?.stoppedByAdmin ? 'DISABLED' : 'DOWN' };
    }));
    const reports = (await this.options.coordinator.request({ type: 'nodes' })).nodes as NodeStateReport[];
    const storage = await Promise.all(reports.map(async (r): Promise<StorageNodeState> => {
      const name = `kvnode-${r.id}`;
      const status = await this.options.store.status({ host: r.host, port: r.port }).catch(() => null);
      const proc = processes.find((p) => p.name === name) ?? null;
      // Stopped by the admin through the supervisor reads as DISABLED, like a coordinator disable.
      const state = proc?.stoppedByAdmin ? 'DISABLED' : r.state;
      return { ...r, name, state, status, process: proc };
    }));
    return { frontends, storage, supervised: this.options.supervisor !== null };
  }

  async tablets(): Promise<ClusterMap> {
    return (await this.options.coordinator.request({ type: 'map' })).map as ClusterMap;
  }

  /** Stops a node as if it were killed; it stays down until restarted. */
  async disable(name: string): Promise<void> {
    const target = this.parse(name);
    if (target.kind === 'kvnode') await this.options.coordinator.request({ type: 'disable', nodeId: target.id });
    if (this.options.supervisor !== null) await this.options.supervisor.request({ type: 'stop', name });
    else if (target.kind === 'frontend') throw new PennError('UNAVAILABLE', 'frontends can be stopped only when the cloud runs under `penncloud up`');
  }

  /**
   * Starts a node again: a disabled or dead one comes up, a running one is stopped and started
   * anew; a storage node recovers from its disk and catches up.
   */
  async restart(name: string): Promise<void> {
    const target = this.parse(name);
    if (target.kind === 'kvnode') await this.options.coordinator.request({ type: 'enable', nodeId: target.id });
    if (this.options.supervisor !== null) await this.options.supervisor.request({ type: 'restart', name });
    else if (target.kind === 'frontend') throw new PennError('UNAVAILABLE', 'frontends can be started only when the cloud runs under `penncloud up`');
  }

  async data(tablet: string | null, cursor: string | null, limitText: string | null): Promise<RawPage> {
    const limit = limitText === null ? DATA_PAGE_DEFAULT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > DATA_PAGE_MAX) throw new PennError('BAD_REQUEST', `limit must be a whole number from 1 to ${DATA_PAGE_MAX}`);
    const map = await this.tablets();
    const start = tablet ?? map.tablets[0]?.start ?? '';
    if (!map.tablets.some((t) => t.start === start)) throw new PennError('NOT_FOUND', `no tablet starts at ${JSON.stringify(start)}`);
    return rawPage(this.options.store, start, cursor, limit);
  }

  private async processes(): Promise<ProcessInfo[]> {
    if (this.options.supervisor === null) return [];
    try {
      return (await this.options.supervisor.request({ type: 'processes' })).processes as ProcessInfo[];
    } catch {
      return [];
    }
  }

  private parse(name: string): { kind: 'kvnode' | 'frontend'; id: number } {
    const m = /^(kvnode|frontend)-(\d{1,6})$/.exec(name);
    if (m === null) throw new PennError('NOT_FOUND', `no node "${name}"; nodes are named kvnode-N or frontend-N`);
    const id = Number(m[2]);
    if (m[1] === 'frontend' && !this.options.frontends.some((f) => f.id === id)) throw new PennError('NOT_FOUND', `no node "${name}"`);
    return { kind: m[1] as 'kvnode' | 'frontend', id };
  }
}
