/**
 * Test support: real `penncloud kvnode` processes on OS-chosen ports, with a temporary
 * configuration and data directory, started by waiting for their READY line (bounded).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import type { KvClusterMap } from '../../lib/kvclient/tablet-router.js';
import { clusterSecretOf } from '../support/roles.js';

/** The executable under test (compiled); PENNCLOUD_BIN may point elsewhere. */
const BIN = process.env.PENNCLOUD_BIN ?? resolve('dist/bin/penncloud.js');

/** Longest wait for a node's READY line (start-up includes recovery of up to 100 MB). */
export const READY_WAIT_MS = 60_000;

/** Longest wait for a node process to exit after a signal. */
export const EXIT_WAIT_MS = 30_000;

/** A port that was free a moment ago (listen on 0, close). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => res(port));
    });
  });
}

export interface TestCluster {
  root: string;
  confFile: string;
  dataDir: string;
  kv: KvClusterMap & { valueBytesMax: number; requestTimeoutMs: number };
  ports: number[];
}

/**
 * A temporary configuration with `nodeCount` nodes, each its own group; tablets split the
 * key space at `tabletStarts` (the first starts at ""), tablet i going to group i.
 */
export async function makeCluster(opts: { nodeCount?: number; tabletStarts?: string[]; kv?: Record<string, unknown> } = {}): Promise<TestCluster> {
  const nodeCount = opts.nodeCount ?? 1;
  const starts = opts.tabletStarts ?? [''];
  const root = mkdtempSync(join(tmpdir(), 'penncloud-kv-'));
  const ports: number[] = [];
  // The OS may hand the same free port out twice in a row on a busy machine: keep them distinct.
  while (ports.length < nodeCount + 3) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const kv = {
    nodes: ports.slice(0, nodeCount).map((port, id) => ({ id, host: '127.0.0.1', port })),
    groups: ports.slice(0, nodeCount).map((_p, id) => [id]),
    tablets: starts.map((start, i) => ({ start, group: i % nodeCount })),
    valueBytesMax: 1024 * 1024,
    memoryBudgetBytes: 64 * 1024 * 1024,
    tabletSplitBytes: 32 * 1024 * 1024,
    checkpointLogBytes: 32 * 1024 * 1024,
    requestTimeoutMs: 20_000,
    readFrom: 'primary',
    ...opts.kv,
  };
  const conf = {
    frontends: [{ id: 1, host: '127.0.0.1', port: ports[nodeCount]! }],
    dispatcher: { host: '127.0.0.1', port: ports[nodeCount + 1]! },
    coordinator: { host: '127.0.0.1', port: ports[nodeCount + 2]! },
    kv,
    // The smallest drive chunk, so that small test value limits stay valid configurations.
    drive: { chunkBytes: 4096 },
  };
  const confFile = join(root, 'conf.json');
  writeFileSync(confFile, JSON.stringify(conf, null, 2));
  return { root, confFile, dataDir: join(root, 'data'), kv: kv as TestCluster['kv'], ports };
}

export class NodeProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly id: number, readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; });
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9: no chance to flush anything. */
  async crash(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await withTimeout(this.exited, EXIT_WAIT_MS, `node ${this.id} did not die`);
  }

  async stop(): Promise<number | null> {
    if (!this.alive) return this.child.exitCode;
    this.child.kill('SIGTERM');
    return withTimeout(this.exited, EXIT_WAIT_MS, `node ${this.id} did not stop`);
  }
}

function spawnNode(cluster: TestCluster, id: number): NodeProcess {
  const child = spawn(process.execPath, [BIN, 'kvnode', '--id', String(id), '--conf', cluster.confFile, '--data', cluster.dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PENNCLOUD_LOG: process.env.PENNCLOUD_LOG ?? 'warn' },
  });
  return new NodeProcess(id, child);
}

/** Starts node `id` and resolves once it printed READY; rejects (with its stderr) if it exits first. */
export async function startNode(cluster: TestCluster, id: number): Promise<NodeProcess> {
  const node = spawnNode(cluster, id);
  running.add(node);
  const ready = new Promise<void>((res, rej) => {
    const onData = (): void => {
      if (node.stdout.includes(`READY kvnode-${id} `)) res();
    };
    node.child.stdout!.on('data', onData);
    void node.exited.then((code) => rej(new Error(`node ${id} exited with ${code} before READY:\n${node.stderr}`)));
  });
  await withTimeout(ready, READY_WAIT_MS, `node ${id} was not READY in ${READY_WAIT_MS} ms:\n${node.stderr}`);
  return node;
}

/** Runs node `id` expecting it to refuse to start; resolves with its exit code and stderr. */
export async function startNodeExpectingRefusal(cluster: TestCluster, id: number): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const node = spawnNode(cluster, id);
  running.add(node);
  const code = await withTimeout(node.exited, READY_WAIT_MS, `node ${id} neither started nor refused:\n${node.stderr}`);
  return { code, stderr: node.stderr, stdout: node.stdout };
}

export function clientFor(cluster: TestCluster, extra: Partial<ConstructorParameters<typeof KvClient>[0]> = {}): KvClient {
  const client = new KvClient({
    cluster: cluster.kv,
    valueBytesMax: cluster.kv.valueBytesMax,
    requestTimeoutMs: cluster.kv.requestTimeoutMs,
    secret: clusterSecretOf(cluster.dataDir),
    ...extra,
  });
  clients.add(client);
  return client;
}

const running = new Set<NodeProcess>();
const clients = new Set<KvClient>();
const roots = new Set<string>();

/** Registers a cluster's directory for removal in cleanup(). */
export function track(cluster: TestCluster): TestCluster {
  roots.add(cluster.root);
  return cluster;
}

/** kill -9 on every node and closes every client, keeping the data directories. */
export async function cleanupNodesOnly(): Promise<void> {
  for (const c of clients) c.close();
  clients.clear();
  await Promise.all([...running].map((n) => n.crash()));
  running.clear();
}

/** Kills every node and client started by these helpers and removes the temp directories. */
export async function cleanup(): Promise<void> {
  await cleanupNodesOnly();
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots.clear();
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_res, rej) => { timer = setTimeout(() => rej(new Error(message)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A deterministic value for a key: `bytes` long, every byte derived from the key. */
export function valueFor(key: string, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let x = 2166136261;
  for (let i = 0; i < key.length; i++) x = Math.imul(x ^ key.charCodeAt(i), 16777619) >>> 0;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Polls `check` until it holds (bounded by `ms`); for conditions no event announces. */
export async function waitUntil(check: () => Promise<boolean>, ms: number, message: string | (() => string)): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(typeof message === 'string' ? message : message());
    await new Promise((res) => setTimeout(res, 20));
  }
}
