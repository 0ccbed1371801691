/**
 * `npm run bench:kv`: one PennCloud KV node against Redis, both durable (fsync before ack:
 * Redis with --appendonly yes --appendfsync always), driven in the same run with the same
 * client concurrency. Prints ops/s and p50/p99 latency of PUT/SET and GET side by side, then
 * the replicated PUT (a coordinator and a group of three nodes, each fsyncing) against the
 * same Redis.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLUSTER_SECRET_FILE, loadClusterSecret } from '../lib/cli/cluster-secret.js';
import { KvClient } from '../lib/kvclient/kv-client.js';
import { setLogLevel } from '../lib/protocol/log.js';
import { RespClient } from './resp-client.js';
import { freePort, startRedis, stopChildren, waitForLine } from './bench-processes.js';
import { drive as driveWith, medianResult as median, type LoadResult as Result } from './load-driver.js';
import { compareReplicatedPuts, REPLICATED_PUT_TARGET_RATIO } from './replicated-puts.js';
import { roleNodeFlags } from '../lib/cli/role-node-flags.js';

/** Requests in flight at once, for both stores. */
const IN_FLIGHT = 50;
/** Client connections to each server (the KV client's default pool size). */
const CONNECTIONS = 2;
/** Each figure is the median of this many runs, alternating which store goes first. */
const ROUNDS = 5;
/** Longest wait for a server to report it is ready. */
const START_WAIT_MS = 30_000;
/** A single node should reach this fraction of Redis's throughput. */
const SINGLE_NODE_TARGET_RATIO = 0.5;
/** The replicated PUT: the value size and the PUTs per round (a round is slower than one node's). */
const REPLICATED_VALUE_BYTES = 100;
const REPLICATED_PUTS = 10_000;
const MIB = 1024 * 1024;

interface Workload {
  name: string;
  valueBytes: number;
  keys: number;
  ops: number;
}

const WORKLOADS: Workload[] = [
  { name: '100 B', valueBytes: 100, keys: 10_000, ops: 50_000 },
  { name: '1 MiB', valueBytes: MIB, keys: 64, ops: 1000 },
];

/** One line of the table: a workload, both figures, and the ratio ours/Redis must reach. */
type Row = [name: string, ours: Result, theirs: Result, targetRatio: number];

/** Runs `ops` operations with IN_FLIGHT of them outstanding at any moment. */
function drive(ops: number, op: (i: number) => Promise<unknown>): Promise<Result> {
  return driveWith(ops, IN_FLIGHT, op);
}

function valueOf(w: Workload, i: number): Buffer {
  const v = Buffer.alloc(w.valueBytes, i % 251);
  v.writeUInt32BE(i, 0);
  return v;
}

async function benchWorkload(w: Workload, kv: KvClient, redis: RespPool): Promise<Row[]> {
  const key = (i: number): string => `bench-${w.valueBytes}-${i % w.keys}`;
  const warm = Math.min(w.ops / 10, 1000);
  await drive(warm, (i) => kv.put(key(i), 'v', valueOf(w, i)));
  await drive(warm, (i) => redis.pick().set(key(i), valueOf(w, i)));
  const ours = { put: [] as Result[], get: [] as Result[] };
  const theirs = { put: [] as Result[], get: [] as Result[] };
  const ops = Math.ceil(w.ops / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate who goes first, so neither always meets the other's leftovers.
    const runs = [
      async (): Promise<void> => {
        ours.put.push(await drive(ops, (i) => kv.put(key(i), 'v', valueOf(w, i))));
        ours.get.push(await drive(ops, async (i) => {
          if ((await kv.get(key(i), 'v')) === null) throw new Error(`missing ${key(i)}`);
        }));
      },
      async (): Promise<void> => {
        theirs.put.push(await drive(ops, (i) => redis.pick().set(key(i), valueOf(w, i))));
        theirs.get.push(await drive(ops, async (i) => {
          if ((await redis.pick().get(key(i))) === null) throw new Error(`redis missing ${key(i)}`);
        }));
      },
    ];
    if (round % 2 === 1) runs.reverse();
    for (const run of runs) await run();
  }
  return [[`PUT ${w.name}`, median(ours.put), median(theirs.put), SINGLE_NODE_TARGET_RATIO],
    [`GET ${w.name}`, median(ours.get), median(theirs.get), SINGLE_NODE_TARGET_RATIO]];
}

/** Redis connections, used least-busy first like the KV client's pool. */
class RespPool {
  constructor(private readonly clients: RespClient[]) {}

  static async connect(port: number, size: number): Promise<RespPool> {
    return new RespPool(await Promise.all(Array.from({ length: size }, () => RespClient.connect(port))));
  }

  pick(): RespClient {
    let best = this.clients[0]!;
    for (const c of this.clients) if (c.inFlight < best.inFlight) best = c;
    return best;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

function printTable(rows: Row[]): void {
  const f = (n: number, d = 0): string => n.toFixed(d);
  const header = ['workload', 'penncloud ops/s', 'p50 ms', 'p99 ms', 'redis ops/s', 'p50 ms', 'p99 ms', 'ratio', 'target'];
  const lines = rows.map(([name, ours, theirs, target]) => {
    const ratio = ours.opsPerSec / theirs.opsPerSec;
    return [name, f(ours.opsPerSec), f(ours.p50Ms, 2), f(ours.p99Ms, 2), f(theirs.opsPerSec), f(theirs.p50Ms, 2),
      f(theirs.p99Ms, 2), f(ratio, 2), `>=${target} ${ratio >= target ? 'ok' : 'MISSED'}`];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\n${row(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const l of lines) process.stdout.write(`${row(l)}\n`);
  process.stdout.write(`\n${IN_FLIGHT} requests in flight over ${CONNECTIONS} connections to each store; both fsync every write before\n`
    + `acknowledging it. Each figure is the median of ${ROUNDS} runs. "replicated x3": a coordinator and a group of\n`
    + `three nodes, each fsyncing every write before the primary answers, against the same Redis.\n`);
}

async function main(): Promise<number> {
  if (spawnSync('redis-server', ['--version']).error !== undefined) {
    process.stderr.write('kv-bench: redis-server is not installed; it is the reference run (Debian: apt-get install -y redis-server)\n');
    return 1;
  }
  setLogLevel('warn');
  const root = mkdtempSync(join(tmpdir(), 'penncloud-kv-bench-'));
  const children: ChildProcess[] = [];
  try {
    const [kvPort, p1, p2, p3] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const conf = {
      frontends: [{ id: 1, host: '127.0.0.1', port: p1 }],
      dispatcher: { host: '127.0.0.1', port: p2 },
      coordinator: { host: '127.0.0.1', port: p3 },
      kv: {
        nodes: [{ id: 0, host: '127.0.0.1', port: kvPort }],
        groups: [[0]],
        tablets: [{ start: '', group: 0 }],
        valueBytesMax: 8 * MIB,
        memoryBudgetBytes: 1024 * MIB,
        tabletSplitBytes: 256 * MIB,
        checkpointLogBytes: 256 * MIB,
        requestTimeoutMs: 30_000,
      },
    };
    const confFile = join(root, 'conf.json');
    writeFileSync(confFile, JSON.stringify(conf));
    const node = spawn(process.execPath, [...roleNodeFlags('kvnode'), process.env.PENNCLOUD_BIN ?? resolve('dist/bin/penncloud.js'), 'kvnode', '--id', '0', '--conf', confFile, '--data', join(root, 'data')],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PENNCLOUD_LOG: 'warn' } });
    children.push(node);
    const redisDir = join(root, 'redis');
    mkdirSync(redisDir);
    const [redis] = await Promise.all([
      startRedis(redisDir, START_WAIT_MS),
      waitForLine(node, /READY kvnode-0 /, 'the kv node', START_WAIT_MS),
    ]);
    children.push(redis.child);
    const kv = new KvClient({ cluster: conf.kv, valueBytesMax: conf.kv.valueBytesMax, requestTimeoutMs: 30_000, connectionsPerNode: CONNECTIONS, secret: loadClusterSecret(join(root, 'data', CLUSTER_SECRET_FILE), true) });
    const resp = await RespPool.connect(redis.port, CONNECTIONS);
    try {
      await resp.pick().ping();
      const rows: Row[] = [];
      for (const w of WORKLOADS) rows.push(...await benchWorkload(w, kv, resp));
      // The single node is done; the group gets the machine to itself (and Redis).
      kv.close();
      await stopChildren([node]);
      const replicated = await compareReplicatedPuts(root, (key, value) => resp.pick().set(key, value),
        { inFlight: IN_FLIGHT, puts: REPLICATED_PUTS, rounds: ROUNDS, valueBytes: REPLICATED_VALUE_BYTES });
      rows.push([`PUT ${REPLICATED_VALUE_BYTES} B replicated x3`, replicated.ours, replicated.redis, REPLICATED_PUT_TARGET_RATIO]);
      printTable(rows);
    } finally {
      kv.close();
      resp.close();
    }
    return 0;
  } finally {
    await stopChildren(children);
    rmSync(root, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`kv-bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
