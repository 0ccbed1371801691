/**
 * `npm run bench:kv`: one PennCloud KV node against Redis, both durable (fsync before ack:
 * Redis with --appendonly yes --appendfsync always), driven in the same run with the same
 * client concurrency. Prints ops/s and p50/p99 latency of PUT/SET and GET side by side.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KvClient } from '../lib/kvclient/kv-client.js';
import { setLogLevel } from '../lib/protocol/log.js';
import { RespClient } from './resp-client.js';
import { freePort, waitForLine } from './bench-processes.js';

/** Requests in flight at once, for both stores. */
const IN_FLIGHT = 50;
/** Client connections to each server (the KV client's default pool size). */
const CONNECTIONS = 2;
/** Each figure is the median of this many runs, alternating which store goes first. */
const ROUNDS = 5;
/** Longest wait for a server to report it is ready. */
const START_WAIT_MS = 30_000;
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

interface Result {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `ops` operations with IN_FLIGHT of them outstanding at any moment. */
async function drive(ops: number, op: (i: number) => Promise<unknown>): Promise<Result> {
  const latenciesNs = new Float64Array(ops);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < ops) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await op(i);
      latenciesNs[i] = Number(process.hrtime.bigint() - t0);
    }
  }));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesNs.sort();
  const at = (q: number): number => latenciesNs[Math.min(ops - 1, Math.floor(q * ops))]! / 1e6;
  return { opsPerSec: ops / elapsedS, p50Ms: at(0.5), p99Ms: at(0.99) };
}

function valueOf(w: Workload, i: number): Buffer {
  const v = Buffer.alloc(w.valueBytes, i % 251);
  v.writeUInt32BE(i, 0);
  return v;
}

/** Median run by throughput (the machine is shared, so single runs are noisy). */
function median(results: Result[]): Result {
  return [...results].sort((a, b) => a.opsPerSec - b.opsPerSec)[results.length >> 1]!;
}

async function benchWorkload(w: Workload, kv: KvClient, redis: RespPool): Promise<[string, Result, Result][]> {
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
  return [[`PUT ${w.name}`, median(ours.put), median(theirs.put)], [`GET ${w.name}`, median(ours.get), median(theirs.get)]];
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

function printTable(rows: [string, Result, Result][]): void {
  const f = (n: number, d = 0): string => n.toFixed(d);
  const header = ['workload', 'penncloud ops/s', 'p50 ms', 'p99 ms', 'redis ops/s', 'p50 ms', 'p99 ms', 'ratio', 'target'];
  const lines = rows.map(([name, ours, theirs]) => {
    const ratio = ours.opsPerSec / theirs.opsPerSec;
    return [name, f(ours.opsPerSec), f(ours.p50Ms, 2), f(ours.p99Ms, 2), f(theirs.opsPerSec), f(theirs.p50Ms, 2),
      f(theirs.p99Ms, 2), f(ratio, 2), ratio >= 0.5 ? '>=0.5 ok' : '>=0.5 MISSED'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\n${row(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const l of lines) process.stdout.write(`${row(l)}\n`);
  process.stdout.write(`\n${IN_FLIGHT} requests in flight over ${CONNECTIONS} connections to each store; both fsync every write before\nacknowledging it. Each figure is the median of ${ROUNDS} runs.\n`);
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
    const [kvPort, redisPort, p1, p2, p3] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
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
    const node = spawn(process.execPath, [process.env.PENNCLOUD_BIN ?? resolve('dist/bin/penncloud.js'), 'kvnode', '--id', '0', '--conf', confFile, '--data', join(root, 'data')],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PENNCLOUD_LOG: 'warn' } });
    children.push(node);
    const redisDir = join(root, 'redis');
    mkdirSync(redisDir);
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--appendonly', 'yes',
      '--appendfsync', 'always', '--dir', redisDir, '--save', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(redis);
    await Promise.all([
      waitForLine(node, /READY kvnode-0 /, 'the kv node', START_WAIT_MS),
      waitForLine(redis, /Ready to accept connections/, 'redis-server', START_WAIT_MS),
    ]);
    const kv = new KvClient({ cluster: conf.kv, valueBytesMax: conf.kv.valueBytesMax, requestTimeoutMs: 30_000, connectionsPerNode: CONNECTIONS });
    const resp = await RespPool.connect(redisPort, CONNECTIONS);
    await resp.pick().ping();
    const rows: [string, Result, Result][] = [];
    for (const w of WORKLOADS) rows.push(...await benchWorkload(w, kv, resp));
    printTable(rows);
    kv.close();
    resp.close();
    return 0;
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null
      ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
    rmSync(root, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`kv-bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
