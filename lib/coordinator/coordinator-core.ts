/**
 * The coordinator's decisions, as a deterministic state machine: heartbeats, admin calls and
 * the passing of time come in; views, tablet maps and things to persist come out. No sockets,
 * no clocks, no files: the shell in coordinator-server.ts does the I/O.
 *
 * The rules that keep acknowledged writes safe:
 * - A write is acknowledged only when every member of the current view has logged it, so
 *   every member of the latest view holds every acknowledged write. Only such a member (a
 *   "holder") may become primary.
 * - A node that restarted (new incarnation) has left the view; it comes back as a secondary
 *   only when the primary says it has caught up (`join`).
 * - After the coordinator itself starts, it waits one failure timeout before deposing anyone,
 *   so that it first hears from every node that is alive.
 */

export type NodeState = 'STARTING' | 'RECOVERING' | 'PRIMARY' | 'SECONDARY' | 'DOWN' | 'DISABLED';

/** What a node says of itself in each heartbeat. */
export interface NodeReport {
  nodeId: number;
  /** Random per process start: a new value means the node restarted and lost its role. */
  incarnation: string;
  /** 'recovering': loading its own checkpoint and log; 'standby': ready, waiting for a role. */
  phase: 'recovering' | 'standby' | 'serving';
  /** Highest sequence number it has applied, and the view that wrote it. */
  lastSeq: number;
  lastSeqView: number;
}

export interface GroupView {
  group: number;
  view: number;
  primary: number | null;
  secondaries: number[];
}

export interface PersistedGroup extends GroupView {
  /** Nodes known to hold every acknowledged write: the only ones that may become primary. */
  holders: number[];
}

/** Everything the coordinator must not forget across a restart. */
export interface PersistedCoordinator {
  groups: PersistedGroup[];
  tablets: TabletRange[];
  disabled: number[];
  /**
   * Per member of a view (node id as a string), the incarnation it had when it entered the
   * view. Without it a restarted coordinator could not tell a member that restarted (and so
   * left the view) from one that did not. Absent in files written before it was kept.
   */
  viewIncarnations?: Record<string, string>;
}

export interface TabletRange {
  /** First row of the tablet (inclusive); it ends where the next one starts. */
  start: string;
  group: number;
}

export type CoordinatorEffect =
  | { kind: 'persist'; state: PersistedCoordinator }
  | { kind: 'announce'; view: GroupView }
  | { kind: 'disable'; nodeId: number }
  | { kind: 'enable'; nodeId: number };

interface NodeRecord {
  id: number;
  group: number;
  lastHeardMs: number | null;
  report: NodeReport | null;
  /** The incarnation the node had when it entered the current view. */
  viewIncarnation: string | null;
}

export interface NodeSummary {
  id: number;
  group: number;
  state: NodeState;
  lastHeardMs: number | null;
  lastSeq: number | null;
}

export class CoordinatorCore {
  private readonly nodes = new Map<number, NodeRecord>();
  private readonly groups: PersistedGroup[];
  private tablets: TabletRange[];
  private readonly disabled: Set<number>;
  /** Before this time no one is deposed: the coordinator is still learning who is alive. */
  private graceUntilMs: number;

  /**
   * @param members node ids per group, from conf/
   * @param persisted the state saved by a previous run, or the initial tablets for a new one
   */
  constructor(
    members: number[][],
    persisted: PersistedCoordinator | { tablets: TabletRange[] },
    private readonly failureTimeoutMs: number,
    startMs: number,
  ) {
    const saved = 'groups' in persisted ? persisted : undefined;
    members.forEach((ids, group) => {
      for (const id of ids) {
        this.nodes.set(id, { id, group, lastHeardMs: null, report: null, viewIncarnation: saved?.viewIncarnations?.[String(id)] ?? null });
      }
    });
    this.groups = members.map((ids, group) => {
      const old = saved?.groups.find((g) => g.group === group);
      // A new cloud: every member starts empty, so every member holds every acknowledged write.
      return old !== undefined ? { ...old, secondaries: [...old.secondaries], holders: [...old.holders] }
        : { group, view: 0, primary: null, secondaries: [], holders: [...ids] };
    });
    this.tablets = persisted.tablets.map((t) => ({ ...t }));
    this.disabled = new Set(saved?.disabled ?? []);
    this.graceUntilMs = startMs + failureTimeoutMs;
  }

  /** A heartbeat from a node. Returns the effects, the node's own group view among them. */
  heartbeat(report: NodeReport, nowMs: number): CoordinatorEffect[] {
    const node = this.nodes.get(report.nodeId);
    if (node === undefined) throw new Error(`heartbeat from unknown node ${report.nodeId}`);
    node.lastHeardMs = nowMs;
    node.report = { ...report };
    const effects = this.evaluate(node.group, nowMs);
    if (this.disabled.has(node.id)) effects.push({ kind: 'disable', nodeId: node.id });
    return effects;
  }

  /**
   * The coordinator itself did not run for a while (stopped, or starved of CPU): the silence it
   * sees is its own. Heartbeats that waited meanwhile are still to be read, so no one is judged
   * until it has listened for a full failure timeout again, as after a start.
   */
  resumedAfterPause(nowMs: number): void {
    this.graceUntilMs = Math.max(this.graceUntilMs, nowMs + this.failureTimeoutMs);
  }

  /** The passing of time: finds silent nodes and replaces them. */
  tick(nowMs: number): CoordinatorEffect[] {
    return this.groups.flatMap((g) => this.evaluate(g.group, nowMs));
  }

  /**
   * The primary of `view` says `nodeId` has caught up and receives its writes: it becomes a
   * secondary in a new view. Refused (no effect) if the view moved on meanwhile.
   */
  join(group: number, view: number, fromPrimary: number, nodeId: number, nowMs: number): CoordinatorEffect[] {
    const g = this.groups[group];
    const node = this.nodes.get(nodeId);
    if (g === undefined || node === undefined || node.group !== group) return [];
    if (g.view !== view || g.primary !== fromPrimary || g.primary === nodeId || g.secondaries.includes(nodeId)) return [];
    if (!this.isAlive(node, nowMs) || node.report?.phase === 'recovering') return [];
    node.viewIncarnation = node.report!.incarnation;
    g.secondaries = [...g.secondaries, nodeId].sort((a, b) => a - b);
    return this.newView(g);
  }

  /** Admin: the node stops serving as if killed, and stays so until enabled. */
  disable(nodeId: number, nowMs: number): CoordinatorEffect[] {
    const node = this.requireNode(nodeId);
    this.disabled.add(nodeId);
    return [{ kind: 'disable', nodeId }, ...this.evaluate(node.group, nowMs, true)];
  }

  /** Admin: a disabled node recovers from its own disk and rejoins. */
  enable(nodeId: number, nowMs: number): CoordinatorEffect[] {
    const node = this.requireNode(nodeId);
    if (!this.disabled.delete(nodeId)) return [];
    return [{ kind: 'enable', nodeId }, ...this.evaluate(node.group, nowMs, true)];
  }

  /**
   * A tablet of `group` split: rows from `splitRow` on form a new tablet of the same group.
   * Idempotent (a node may report the same split twice).
   */
  registerSplit(group: number, splitRow: string): CoordinatorEffect[] {
    if (this.tablets.some((t) => t.start === splitRow)) return [];
    const owner = this.tabletFor(splitRow);
    if (owner.group !== group) throw new Error(`split at ${JSON.stringify(splitRow)} reported by group ${group}, owned by ${owner.group}`);
    this.tablets = [...this.tablets, { start: splitRow, group }].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return [{ kind: 'persist', state: this.persisted() }];
  }

  /** The tablet that holds `row`. */
  tabletFor(row: string): TabletRange {
    let found = this.tablets[0]!;
    for (const t of this.tablets) {
      if (t.start <= row) found = t;
      else break;
    }
    return found;
  }

  tabletMap(): TabletRange[] {
    return this.tablets.map((t) => ({ ...t }));
  }

  views(): GroupView[] {
    return this.groups.map((g) => ({ group: g.group, view: g.view, primary: g.primary, secondaries: [...g.secondaries] }));
  }

  /** Every node with its state for the admin console. */
  nodeSummaries(nowMs: number): NodeSummary[] {
    return [...this.nodes.values()].sort((a, b) => a.id - b.id).map((n) => ({
      id: n.id,
      group: n.group,
      state: this.stateOf(n, nowMs),
      lastHeardMs: n.lastHeardMs,
      lastSeq: n.report?.lastSeq ?? null,
    }));
  }

  persisted(): PersistedCoordinator {
    const viewIncarnations: Record<string, string> = {};
    for (const g of this.groups) {
      for (const id of g.primary === null ? [] : [g.primary, ...g.secondaries]) {
        const incarnation = this.nodes.get(id)!.viewIncarnation;
        if (incarnation !== null) viewIncarnations[String(id)] = incarnation;
      }
    }
    return {
      groups: this.groups.map((g) => ({ ...g, secondaries: [...g.secondaries], holders: [...g.holders] })),
      tablets: this.tabletMap(),
      disabled: [...this.disabled].sort((a, b) => a - b),
      viewIncarnations,
    };
  }

  private stateOf(n: NodeRecord, nowMs: number): NodeState {
    if (this.disabled.has(n.id)) return 'DISABLED';
    if (!this.isAlive(n, nowMs)) return 'DOWN';
    const g = this.groups[n.group]!;
    if (this.inView(g, n)) return g.primary === n.id ? 'PRIMARY' : 'SECONDARY';
    return n.report?.phase === 'recovering' ? 'STARTING' : 'RECOVERING';
  }

  private isAlive(n: NodeRecord, nowMs: number): boolean {
    return !this.disabled.has(n.id) && n.lastHeardMs !== null && nowMs - n.lastHeardMs < this.failureTimeoutMs;
  }

  /** In the view, and still the same process that entered it. */
  private inView(g: PersistedGroup, n: NodeRecord): boolean {
    const listed = g.primary === n.id || g.secondaries.includes(n.id);
    return listed && n.report !== null && n.report.incarnation === n.viewIncarnation;
  }

  /**
   * Brings a group's view in line with who is alive. `force` skips the start-up grace (an
   * admin's disable takes effect at once).
   */
  private evaluate(group: number, nowMs: number, force = false): CoordinatorEffect[] {
    const g = this.groups[group]!;
    const learning = !force && nowMs < this.graceUntilMs;
    const node = (id: number): NodeRecord => this.nodes.get(id)!;
    // A member that restarted left the view the moment it did, grace or not.
    const gone = (id: number): boolean => {
      const n = node(id);
      if (n.report !== null && n.viewIncarnation !== null && n.report.incarnation !== n.viewIncarnation) return true;
      if (this.disabled.has(id)) return true;
      return !learning && !this.isAlive(n, nowMs);
    };
    let changed = false;
    if (g.primary !== null && gone(g.primary)) {
      const live = g.secondaries.filter((id) => !gone(id));
      if (live.length > 0) {
        const next = pickMostAdvanced(live.map(node));
        g.primary = next;
        g.secondaries = live.filter((id) => id !== next);
      } else {
        // Every member of the view is gone: they alone hold every acknowledged write.
        g.holders = [g.primary, ...g.secondaries];
        g.primary = null;
        g.secondaries = [];
      }
      changed = true;
    } else if (g.primary !== null) {
      const live = g.secondaries.filter((id) => !gone(id));
      if (live.length !== g.secondaries.length) {
        g.secondaries = live;
        changed = true;
      }
    }
    if (g.primary === null && !learning) {
      const ready = g.holders.map(node).filter((n) => this.isAlive(n, nowMs) && n.report?.phase === 'standby');
      if (ready.length > 0) {
        const next = pickMostAdvanced(ready);
        g.primary = next;
        g.secondaries = [];
        node(next).viewIncarnation = node(next).report!.incarnation;
        changed = true;
      }
    }
    if (!changed) return [];
    if (g.primary !== null) g.holders = [g.primary, ...g.secondaries];
    return this.newView(g);
  }

  private newView(g: PersistedGroup): CoordinatorEffect[] {
    g.view++;
    if (g.primary !== null) g.holders = [g.primary, ...g.secondaries];
    return [
      { kind: 'persist', state: this.persisted() },
      { kind: 'announce', view: { group: g.group, view: g.view, primary: g.primary, secondaries: [...g.secondaries] } },
    ];
  }

  private requireNode(id: number): NodeRecord {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no storage node ${id}`);
    return node;
  }
}

/** The node with the highest applied sequence number; the lowest id breaks a tie. */
function pickMostAdvanced(candidates: NodeRecord[]): number {
  let best = candidates[0]!;
  for (const n of candidates) {
    const seq = n.report?.lastSeq ?? -1;
    const bestSeq = best.report?.lastSeq ?? -1;
    if (seq > bestSeq || (seq === bestSeq && n.id < best.id)) best = n;
  }
  return best.id;
}
