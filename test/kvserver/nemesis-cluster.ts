/**
 * Test support for the nemesis: the processes of one replica group (a coordinator and three
 * kv nodes, from ReplicaGroup's configuration), started, killed, paused and resumed on
 * request, with every process's log kept across restarts and a timeline of what the nemesis
 * did, so that a failure can be read back afterwards.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import type { NodeStateReport, WireGroupView } from '../../lib/protocol/coordinator-wire.js';
import { JsonLinePeer } from '../support/json-line-client.js';
import { allRows } from '../support/kv-rows.js';
import { freePort, startRole, stopRole, type RoleProcess } from '../support/roles.js';
import { FAILURE_TIMEOUT_MS, GROUP_WAIT_MS, ReplicaGroup } from './replica-group.js';

export const NODE_IDS = [0, 1, 2] as const;
export const COLUMN = 'c';

/**
 * The log size that triggers a checkpoint, small on purpose: checkpoints (and the log they
 * drop) happen every few seconds under the test's load, so a node that was down may find the
 * primary's log no longer reaching back to what it lacks.
 */
export const CHECKPOINT_LOG_BYTES = 128 * 1024;
/**
 * The split size, the smallest the configuration takes: the ledger's rows split the group's
 * tablet a few times during the faults, so every copy must split alike through them.
 */
export const TABLET_SPLIT_BYTES = 64 * 1024;
/**
 * Every value is read from the log once logged (conf kv.logValueBytesMin): the faults then hit
 * values kept in the log, their checkpoints and the segments kept for them, on every copy.
 */
export const LOG_VALUE_BYTES_MIN = 1;
/** Each client call: one attempt's wait and the retry budget of the whole call. */
export const CLIENT_REQUEST_TIMEOUT_MS = 5_000;
/** How often a wait polls the coordinator for the view. */
const VIEW_POLL_INTERVAL_MS = 50;
/** Lines of each process's log quoted in a failure message. */
const LOG_TAIL_LINES = 12;
/** Reads in flight at once when a whole key set is read. */
const READS_IN_FLIGHT = 16;

interface Incarnation {
  label: string;
  role: RoleProcess;
  startedAtMs: number;
}

export class NemesisCluster {
  private readonly incarnations: Incarnation[] = [];
  private readonly timeline: string[] = [];
  private readonly clients: KvClient[] = [];
  private readonly paused = new Set<number>();
  /** Per node read alone: the starts of the tablets it reported. */
  readonly tabletsAlone = new Map<number, string[]>();

  private constructor(readonly group: ReplicaGroup) {}

  /**
   * A fresh configuration (ReplicaGroup's, with frequent checkpoints and splits, every value
   * kept in the log) and nothing running yet.
   */
  static async create(): Promise<NemesisCluster> {
    const group = await ReplicaGroup.create('primary', (conf) => {
      conf.kv.checkpointLogBytes = CHECKPOINT_LOG_BYTES;
      conf.kv.tabletSplitBytes = TABLET_SPLIT_BYTES;
      conf.kv.logValueBytesMin = LOG_VALUE_BYTES_MIN;
      conf.kv.valueBytesMax = TABLET_SPLIT_BYTES / 2;
      conf.drive = { chunkBytes: TABLET_SPLIT_BYTES / 2 };
    });
    return new NemesisCluster(group);
  }

  /** Adds a line to the timeline (printed with the logs when something fails). */
  note(text: string): void {
    this.timeline.push(`${new Date().toISOString()} ${text}`);
  }

  async startCoordinator(): Promise<void> {
    const role = await startRole(['coordinator', '--conf', this.group.conf, '--data', this.group.dataDir], { PENNCLOUD_LOG: 'info' });
    this.group.coordinator = role;
    this.keep('coordinator', role);
  }

  async startNode(id: number): Promise<void> {
    const role = await startRole(['kvnode', '--id', String(id), '--conf', this.group.conf, '--data', this.group.dataDir], { PENNCLOUD_LOG: 'info' });
    this.group.nodes.set(id, role);
    this.paused.delete(id);
    this.keep(`node ${id}`, role);
  }

  /** The coordinator and every node, then a bounded wait for the whole view. */
  async startAll(): Promise<WireGroupView> {
    await this.startCoordinator();
    await Promise.all(NODE_IDS.map((id) => this.startNode(id)));
    return this.waitWhole();
  }

  /** kill -9 of a node. */
  async killNode(id: number): Promise<void> {
    const role = this.group.nodes.get(id);
    if (role === undefined) throw new Error(`node ${id} is not running`);
    this.note(`kill -9 node ${id}`);
    await stopRole(role, 'SIGKILL');
    this.group.nodes.delete(id);
    this.paused.delete(id);
  }

  async killCoordinator(): Promise<void> {
    this.note('kill -9 coordinator');
    await this.group.stopCoordinator();
  }

  pauseNode(id: number): void {
    this.note(`SIGSTOP node ${id}`);
    this.signal(id, 'SIGSTOP');
    this.paused.add(id);
  }

  resumeNode(id: number): void {
    this.note(`SIGCONT node ${id}`);
    this.signal(id, 'SIGCONT');
    this.paused.delete(id);
  }

  /**
   * Stops every process with `signal` (SIGTERM: a clean stop; SIGKILL: all at once, nothing
   * flushed) and resolves with each exit code or signal name.
   */
  async stopAll(signal: 'SIGTERM' | 'SIGKILL'): Promise<Record<string, number | string>> {
    this.note(`${signal} to every process`);
    for (const id of this.paused) this.signal(id, 'SIGCONT');
    this.paused.clear();
    const exits: Record<string, number | string> = {};
    const stops: Promise<void>[] = [...this.group.nodes].map(async ([id, role]) => {
      exits[`node ${id}`] = await stopRole(role, signal);
    });
    const coordinator = this.group.coordinator;
    if (coordinator !== null) stops.push(stopRole(coordinator, signal).then((code) => { exits.coordinator = code; }));
    await Promise.all(stops);
    this.group.nodes.clear();
    this.group.coordinator = null;
    return exits;
  }

  /** A client of the group that routes by the coordinator's map; closed by `close`. */
  client(): KvClient {
    const client = new KvClient({
      cluster: this.group.kv, coordinator: this.group.coordinatorAddress, valueBytesMax: 1024 * 1024,
      requestTimeoutMs: CLIENT_REQUEST_TIMEOUT_MS, secret: this.group.secret,
    });
    this.clients.push(client);
    return client;
  }

  /** The coordinator's view of the group (its number, primary and secondaries). */
  async view(): Promise<WireGroupView> {
    const reply = await this.ask({ type: 'map' }) as { map: { views: WireGroupView[] } };
    return reply.map.views[0]!;
  }

  /** What the coordinator knows of each node (state, last seq, heartbeat age). */
  async nodeStates(): Promise<NodeStateReport[]> {
    return (await this.ask({ type: 'nodes' }) as { nodes: NodeStateReport[] }).nodes;
  }

  /**
   * Waits (bounded) until the group is whole: a view with a primary and both secondaries, each
   * node heard from within the failure timeout and in the role the view gives it; with
   * `afterView`, in a view newer than that one (a node that was killed must have left the view
   * and joined it again).
   */
  async waitWhole(afterView?: number): Promise<WireGroupView> {
    const deadline = Date.now() + GROUP_WAIT_MS;
    let last = 'no answer from the coordinator';
    for (;;) {
      try {
        const view = await this.view();
        const states = await this.nodeStates();
        last = `view ${JSON.stringify(view)}, nodes ${JSON.stringify(states.map(({ id, state, view: v, lastSeq, heartbeatAgeMs }) => ({ id, state, view: v, lastSeq, heartbeatAgeMs })))}`;
        if (isWhole(view, states) && (afterView === undefined || view.view > afterView)) {
          this.note(`whole: view ${view.view}, primary ${view.primary}, secondaries ${view.secondaries.join(',')}`);
          return view;
        }
      } catch (err) {
        last = `no answer from the coordinator: ${(err as Error).message}`;
      }
      if (Date.now() > deadline) {
        throw new Error(`the group was not whole again within ${GROUP_WAIT_MS} ms${afterView === undefined ? '' : ` (in a view after ${afterView})`}.\n`
          + `last seen: ${last}\n${this.logTails()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, VIEW_POLL_INTERVAL_MS));
    }
  }

  /**
   * Starts node `id` alone (a configuration whose only group is [id], on a fresh port), on its
   * own data, and reads every row it holds: row → value of COLUMN. Nothing else may be running
   * on this node's data.
   */
  async readAlone(id: number): Promise<Map<string, string | null>> {
    const conf = JSON.parse(readFileSync(this.group.conf, 'utf8')) as Record<string, any>;
    const solo = { ...conf, kv: { ...conf.kv, nodes: [{ id, host: '127.0.0.1', port: await freePort() }], groups: [[id]], tablets: [{ start: '', group: 0 }] } };
    const file = join(dirname(this.group.conf), `solo-${id}.json`);
    writeFileSync(file, JSON.stringify(solo, null, 2));
    const role = await startRole(['kvnode', '--id', String(id), '--conf', file, '--data', this.group.dataDir], { PENNCLOUD_LOG: 'info' });
    this.keep(`node ${id} alone`, role);
    const reader = new KvClient({ cluster: solo.kv, valueBytesMax: 1024 * 1024, requestTimeoutMs: CLIENT_REQUEST_TIMEOUT_MS, secret: this.group.secret });
    try {
      const rows = await allRows(reader);
      this.tabletsAlone.set(id, (await reader.status()).tablets.map((t) => t.start));
      const values = await readKeys(rows, async (row) => (await reader.get(row, COLUMN))?.toString() ?? null);
      return values;
    } finally {
      reader.close();
      const code = await stopRole(role, 'SIGTERM');
      this.note(`node ${id} alone stopped (${code})`);
    }
  }

  /** The last lines of every process's log, for failure messages. */
  logTails(lines = LOG_TAIL_LINES): string {
    return this.incarnations.map((i) => {
      const tail = i.role.stderr().trimEnd().split('\n').slice(-lines).join('\n');
      return `--- ${i.label} (started ${new Date(i.startedAtMs).toISOString()}) ---\n${tail}`;
    }).join('\n');
  }

  /** Writes the timeline and every process's whole log into `dir`. */
  saveLogs(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'timeline.txt'), this.timeline.join('\n') + '\n');
    this.incarnations.forEach((i, n) => {
      writeFileSync(join(dir, `${String(n).padStart(2, '0')}-${i.label.replace(/ /g, '-')}.log`),
        `started ${new Date(i.startedAtMs).toISOString()}\n${i.role.stderr()}`);
    });
  }

  closeClients(): void {
    for (const c of this.clients.splice(0)) c.close();
  }

  private keep(label: string, role: RoleProcess): void {
    this.incarnations.push({ label, role, startedAtMs: Date.now() });
    this.note(`${label} started (pid ${role.child.pid})`);
  }

  private signal(id: number, signal: NodeJS.Signals): void {
    const role = this.group.nodes.get(id);
    if (role === undefined) throw new Error(`node ${id} is not running`);
    role.child.kill(signal);
  }

  private async ask(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const peer = await JsonLinePeer.connect(this.group.coordinatorAddress.port, this.group.secret);
    try {
      return await peer.request(request);
    } finally {
      peer.close();
    }
  }
}

/** A primary, both secondaries, and every node alive and in the role the view gives it. */
function isWhole(view: WireGroupView, states: NodeStateReport[]): boolean {
  if (view.primary === null || view.secondaries.length !== NODE_IDS.length - 1) return false;
  return NODE_IDS.every((id) => {
    const s = states.find((n) => n.id === id);
    const role = id === view.primary ? 'PRIMARY' : view.secondaries.includes(id) ? 'SECONDARY' : null;
    return s !== undefined && s.state === role && s.heartbeatAgeMs !== null && s.heartbeatAgeMs < FAILURE_TIMEOUT_MS;
  });
}

/** Reads `keys` with a few reads in flight; key → value. A failed read rejects. */
export async function readKeys(keys: readonly string[], read: (key: string) => Promise<string | null>): Promise<Map<string, string | null>> {
  const values = new Map<string, string | null>();
  let next = 0;
  await Promise.all(Array.from({ length: READS_IN_FLIGHT }, async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      values.set(key, await read(key));
    }
  }));
  return values;
}
