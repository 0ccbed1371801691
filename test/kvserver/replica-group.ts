/**
 * Test support: a coordinator and one replica group of three real `penncloud kvnode`
 * processes, with quick heartbeats so failover happens within a second.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchClusterMap } from '../../lib/kvclient/coordinator-map-source.js';
import { KvClient, type KvClientOptions } from '../../lib/kvclient/kv-client.js';
import { NodeConnection } from '../../lib/kvclient/node-connection.js';
import type { KvClusterMap } from '../../lib/kvclient/tablet-router.js';
import type { KvNodeStatus, KvRequestBody } from '../../lib/protocol/kv-wire.js';
import { cleanupTempDirs, clusterSecretOf, freePort, killAllRoles, startRole, stopRole, tempDir, type RoleProcess } from '../support/roles.js';
import { waitUntil } from './node-process.js';

export const HEARTBEAT_INTERVAL_MS = 100;
export const FAILURE_TIMEOUT_MS = 600;
/** Longest wait for the group to reach a state (a view with every node, a failover). */
export const GROUP_WAIT_MS = 30_000;
/** Longest wait for one request sent straight to a node. */
export const NODE_REQUEST_WAIT_MS = 20_000;

/** After a test: the group's clients closed, every process it started killed, its files gone. */
export function endGroupTest(group: ReplicaGroup | undefined): void {
  group?.closeClients();
  killAllRoles();
  cleanupTempDirs();
}

export class ReplicaGroup {
  readonly nodes = new Map<number, RoleProcess>();
  coordinator: RoleProcess | null = null;
  private readonly clients: KvClient[] = [];
  /** The cluster secret of the group's roles (made in the data directory before they start). */
  readonly secret: Buffer;

  private constructor(readonly conf: string, readonly dataDir: string, readonly coordinatorAddress: { host: string; port: number }, readonly kv: KvClusterMap) {
    this.secret = clusterSecretOf(dataDir);
  }

  /**
   * @param readFrom conf kv.readFrom of the group (default "primary")
   * @param patch changes the configuration before anything starts
   */
  static async create(readFrom: 'primary' | 'any' = 'primary', patch: (conf: Record<string, any>) => void = () => undefined): Promise<ReplicaGroup> {
    const dir = tempDir('penncloud-group-');
    const ports: number[] = [];
    for (let i = 0; i < 8; i++) ports.push(await freePort()); // never handed out twice
    const nodes = [0, 1, 2].map((id) => ({ id, host: '127.0.0.1', port: ports[id]! }));
    const coordinator = { host: '127.0.0.1', port: ports[3]!, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS };
    const kv = { nodes, groups: [[0, 1, 2]], tablets: [{ start: '', group: 0 }], requestTimeoutMs: 20_000, valueBytesMax: 1024 * 1024, readFrom };
    const conf = {
      frontends: [{ id: 1, host: '127.0.0.1', port: ports[4]! }],
      dispatcher: { host: '127.0.0.1', port: ports[5]! },
      coordinator, kv,
      smtp: { host: '127.0.0.1', port: ports[6]! },
      pop3: { host: '127.0.0.1', port: ports[7]! },
    };
    patch(conf);
    const file = join(dir, 'conf.json');
    writeFileSync(file, JSON.stringify(conf, null, 2));
    return new ReplicaGroup(file, join(dir, 'data'), coordinator, kv);
  }

  async startCoordinator(): Promise<void> {
    this.coordinator = await startRole(['coordinator', '--conf', this.conf, '--data', this.dataDir]);
  }

  /** kill -9 of the coordinator; its state file stays for the next start. */
  async stopCoordinator(): Promise<void> {
    if (this.coordinator !== null) await stopRole(this.coordinator, 'SIGKILL');
    this.coordinator = null;
  }

  async startNode(id: number): Promise<void> {
    this.nodes.set(id, await startRole(['kvnode', '--id', String(id), '--conf', this.conf, '--data', this.dataDir]));
  }

  async kill(id: number): Promise<void> {
    const node = this.nodes.get(id);
    if (node !== undefined) await stopRole(node, 'SIGKILL');
    this.nodes.delete(id);
  }

  client(options: Partial<KvClientOptions> = {}): KvClient {
    const client = new KvClient({ cluster: this.kv, coordinator: this.coordinatorAddress, valueBytesMax: 1024 * 1024, requestTimeoutMs: 20_000, secret: this.secret, ...options });
    this.clients.push(client);
    return client;
  }

  /** Sends one request straight to node `id`, as `clientId`. */
  async request(id: number, body: KvRequestBody, clientId = randomBytes(8), requestId = 1): Promise<Awaited<ReturnType<NodeConnection['request']>>> {
    const address = this.kv.nodes.find((n) => n.id === id)!;
    const connection = new NodeConnection(address, clientId, 1024 * 1024, 5_000, { inFlight: 0 }, this.secret);
    try {
      return await connection.request(body, requestId, NODE_REQUEST_WAIT_MS);
    } finally {
      connection.close();
    }
  }

  async nodeStatus(id: number): Promise<KvNodeStatus> {
    const reply = await this.request(id, { op: 'STATUS' });
    if (reply.status !== 'STATUS') throw new Error(`node ${id} answered STATUS with ${reply.status}`);
    return reply.node;
  }

  /** The coordinator's view of the group. */
  async view(): Promise<{ primary: number | null; secondaries: number[] }> {
    const map = await fetchClusterMap(this.coordinatorAddress, this.secret);
    return { primary: map.primaries?.[0] ?? null, secondaries: map.secondaries?.[0] ?? [] };
  }

  /** Waits (bounded) until the view holds a primary and `secondaries` secondaries. */
  async waitForView(secondaries: number): Promise<{ primary: number; secondaries: number[] }> {
    let last: { primary: number | null; secondaries: number[] } = { primary: null, secondaries: [] };
    await waitUntil(async () => {
      last = await this.view().catch(() => last);
      return last.primary !== null && last.secondaries.length === secondaries;
    }, GROUP_WAIT_MS, `no view with ${secondaries} secondaries (last: ${JSON.stringify(last)})`);
    return last as { primary: number; secondaries: number[] };
  }

  /** The coordinator and all three nodes, once the view holds a primary and both secondaries. */
  async startAll(): Promise<{ primary: number; secondaries: number[] }> {
    await this.startCoordinator();
    await Promise.all([0, 1, 2].map((id) => this.startNode(id)));
    return this.waitForView(2);
  }

  closeClients(): void {
    for (const c of this.clients.splice(0)) c.close();
  }
}
