/**
 * A replica group for the benchmarks: a coordinator and three KV nodes (fsync before every
 * ack on each) with the timing of conf/, started in a directory of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLUSTER_SECRET_FILE, loadClusterSecret } from '../lib/cli/cluster-secret.js';
import { fetchClusterMap } from '../lib/kvclient/coordinator-map-source.js';
import { KvClient } from '../lib/kvclient/kv-client.js';
import { freePort, stopChildren, waitForLine } from './bench-processes.js';
import { roleNodeFlags } from '../lib/cli/role-node-flags.js';

const BIN = process.env.PENNCLOUD_BIN ?? resolve('dist/bin/penncloud.js');
/** The cluster's timing: the defaults of conf/ (heartbeat 250 ms, failure after 1 s). */
export const HEARTBEAT_INTERVAL_MS = 250;
export const FAILURE_TIMEOUT_MS = 1_000;
/** Longest wait for a process to start, or for the group to reach a view. */
const WAIT_MS = 30_000;
/** How often a wait for a view asks the coordinator. */
const VIEW_POLL_INTERVAL_MS = 50;
const MIB = 1024 * 1024;

export interface BenchGroup {
  coordinator: { host: string; port: number };
  kv: { nodes: { id: number; host: string; port: number }[]; groups: number[][]; tablets: { start: string; group: number }[] };
  nodes: Map<number, ChildProcess>;
  children: ChildProcess[];
  /** The cluster secret the roles share (made in the data directory before they start). */
  secret: Buffer;
}

export type View = { primary: number | null; secondaries: number[] };

/** Starts the coordinator and the three nodes in `root`; resolves once the view holds all three. */
export async function startGroup(root: string): Promise<BenchGroup> {
  const nodes = [];
  for (let id = 0; id < 3; id++) nodes.push({ id, host: '127.0.0.1', port: await freePort() });
  const coordinator = { host: '127.0.0.1', port: await freePort() };
  const kv = { nodes, groups: [[0, 1, 2]], tablets: [{ start: '', group: 0 }] };
  const conf = {
    frontends: [{ id: 1, host: '127.0.0.1', port: await freePort() }],
    dispatcher: { host: '127.0.0.1', port: await freePort() },
    coordinator: { ...coordinator, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS },
    kv: { ...kv, valueBytesMax: MIB, memoryBudgetBytes: 512 * MIB, tabletSplitBytes: 256 * MIB, checkpointLogBytes: 256 * MIB, requestTimeoutMs: 30_000 },
  };
  mkdirSync(root, { recursive: true });
  const confFile = join(root, 'conf.json');
  writeFileSync(confFile, JSON.stringify(conf));
  const common = ['--conf', confFile, '--data', join(root, 'data')];
  const run = (args: string[]): ChildProcess => spawn(process.execPath, [...roleNodeFlags(args[0]), BIN, ...args, ...common],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PENNCLOUD_LOG: 'error' } });
  mkdirSync(join(root, 'data'), { recursive: true, mode: 0o700 });
  const secret = loadClusterSecret(join(root, 'data', CLUSTER_SECRET_FILE), true);
  const group: BenchGroup = { coordinator, kv, nodes: new Map(), children: [], secret };
  try {
    const c = run(['coordinator']);
    group.children.push(c);
    await waitForLine(c, /READY coordinator /, 'the coordinator', WAIT_MS);
    await Promise.all(nodes.map(async (n) => {
      const child = run(['kvnode', '--id', String(n.id)]);
      group.children.push(child);
      group.nodes.set(n.id, child);
      await waitForLine(child, new RegExp(`READY kvnode-${n.id} `), `kv node ${n.id}`, WAIT_MS);
    }));
    await waitForView(group, (v) => v.primary !== null && v.secondaries.length === 2);
  } catch (err) {
    await stopGroup(group);
    throw err;
  }
  return group;
}

/** kill -9 of every process of the group. */
export function stopGroup(group: BenchGroup): Promise<void> {
  return stopChildren(group.children);
}

/** A client that routes by the coordinator's map. */
export function groupClient(group: BenchGroup): KvClient {
  return new KvClient({ cluster: group.kv, coordinator: group.coordinator, valueBytesMax: MIB, requestTimeoutMs: 30_000, secret: group.secret });
}

/** The coordinator's view of the group (its only group). */
export async function viewOf(group: BenchGroup): Promise<View> {
  const map = await fetchClusterMap(group.coordinator, group.secret);
  return { primary: map.primaries?.[0] ?? null, secondaries: map.secondaries?.[0] ?? [] };
}

/** Waits (bounded) until the coordinator's view satisfies `ok`. */
export async function waitForView(group: BenchGroup, ok: (v: View) => boolean): Promise<View> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await viewOf(group);
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`the group did not reach the expected view: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, VIEW_POLL_INTERVAL_MS));
  }
}
