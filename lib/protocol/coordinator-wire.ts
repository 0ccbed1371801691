/**
 * The coordinator's control protocol (TCP, newline-delimited JSON, see json-lines.ts). Nodes
 * keep one connection open: heartbeats go up, views come back (as replies and as pushes when
 * they change). Clients and the admin ask for the cluster map and node states. Requests carry
 * an `id` that the reply repeats; pushes carry none. Documented in docs/coordinator-protocol.md.
 */

export type StorageNodeState = 'STARTING' | 'RECOVERING' | 'PRIMARY' | 'SECONDARY' | 'DOWN' | 'DISABLED';

export interface NodeHeartbeatReport {
  nodeId: number;
  incarnation: string;
  phase: 'recovering' | 'standby' | 'serving';
  lastSeq: number;
  lastSeqView: number;
}

/** Figures a node adds to its heartbeat for the admin console. */
export interface NodeFigures {
  tablets: number;
  memoryBytes: number;
  logBytes: number;
  lastCheckpoint: { seq: number; atMs: number } | null;
}

export interface WireGroupView {
  group: number;
  view: number;
  primary: number | null;
  secondaries: number[];
}

export interface WireTablet {
  start: string;
  group: number;
}

export interface WireNodeAddress {
  id: number;
  host: string;
  port: number;
  group: number;
}

export type CoordinatorRequest =
  | { id: number; type: 'heartbeat'; report: NodeHeartbeatReport; figures?: NodeFigures }
  | { id: number; type: 'join'; group: number; view: number; primary: number; nodeId: number }
  | { id: number; type: 'split'; group: number; row: string }
  | { id: number; type: 'map' }
  | { id: number; type: 'nodes' }
  | { id: number; type: 'disable'; nodeId: number }
  | { id: number; type: 'enable'; nodeId: number };

export interface ClusterMap {
  tablets: WireTablet[];
  views: WireGroupView[];
  nodes: WireNodeAddress[];
}

export interface NodeStateReport extends WireNodeAddress {
  state: StorageNodeState;
  view: number;
  lastSeq: number | null;
  /** Milliseconds since the last heartbeat, null if never heard. */
  heartbeatAgeMs: number | null;
  figures: NodeFigures | null;
}

export type CoordinatorReply =
  | { id: number; type: 'view'; view: WireGroupView; tablets: WireTablet[]; disabled: boolean }
  | { id: number; type: 'ok' }
  | { id: number; type: 'refused'; message: string }
  | { id: number; type: 'map'; map: ClusterMap }
  | { id: number; type: 'nodes'; nodes: NodeStateReport[] }
  | { id: number; type: 'error'; code: string; message: string };

/** Sent without being asked, to a node's open connection. */
export type CoordinatorPush =
  | { type: 'view'; view: WireGroupView; tablets: WireTablet[] }
  | { type: 'disable' }
  | { type: 'enable' };
