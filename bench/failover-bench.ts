/**
 * `npm run bench:failover`: a coordinator and one replica group of three KV nodes.
 *
 * 1. Replicated PUTs (every write fsynced on all three nodes before the reply) against one
 *    Redis with --appendonly yes --appendfsync always, in the same run with the same client
 *    concurrency. Target: at least 0.3x Redis.
 * 2. Failover: under a steady write load, kill -9 the primary and measure the time from the
 *    kill to the first write issued after it that succeeds; the median of several kills, each
 *    on a fresh group. Target: under 1.5 s.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KvClient } from '../lib/kvclient/kv-client.js';
import { setLogLevel } from '../lib/protocol/log.js';
import { RespClient } from './resp-client.js';
import { freePort, waitForLine } from './bench-processes.js';

const BIN = process.env.PENNCLOUD_BIN ?? resolve('dist/bin/penncloud.js');
/** Requests in flight at once for the throughput runs, for both stores. */
const IN_FLIGHT = 50;
/** PUTs per throughput run; each figure is the median of ROUNDS runs. */
const PUTS = 5_000;
const ROUNDS = 3;
const VALUE_BYTES = 100;
/** Kills measured, each on a fresh group. */
const KILLS = 5;
/** Writers of the steady load during a kill. */
const WRITERS = 8;
/** The cluster's timing: the defaults of conf/ (heartbeat 250 ms, failure after 1 s). */
const HEARTBEAT_INTERVAL_MS = 250;
const FAILURE_TIMEOUT_MS = 1_000;
/** Longest wait for a process to start, or for the group to reach a view. */
const WAIT_MS = 30_000;

interface Group {
  coordinator: { host: string; port: number };
  kv: { nodes: { id: number; host: string; port: number }[]; groups: number[][]; tablets: { start: string; group: number }[] };
  nodes: Map<number, ChildProcess>;
  children: ChildProcess[];
}

async function startGroup(root: string): Promise<Group> {
  const nodes = [];
  for (let id = 0; id < 3; id++) nodes.push({ id, host: '127.0.0.1', port: await freePort() });
  const coordinator = { host: '127.0.0.1', port: await freePort() };
  const kv = { nodes, groups: [[0, 1, 2]], tablets: [{ start: '', group: 0 }] };
  const conf = {
    frontends: [{ id: 1, host: '127.0.0.1', port: await freePort() }],
    dispatcher: { host: '127.0.0.1', port: await freePort() },
    coordinator: { ...coordinator, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS },
    kv: { ...kv, valueBytesMax: 1024 * 1024, memoryBudgetBytes: 512 * 1024 * 1024, tabletSplitBytes: 256 * 1024 * 1024, checkpointLogBytes: 256 * 1024 * 1024, requestTimeoutMs: 30_000 },
  };
  mkdirSync(root, { recursive: true });
  const confFile = join(root, 'conf.json');
  writeFileSync(confFile, JSON.stringify(conf));
  const common = ['--conf', confFile, '--data', join(root, 'data')];
  const run = (args: string[]): ChildProcess => spawn(process.execPath, [BIN, ...args, ...common],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PENNCLOUD_LOG: 'error' } });
  const group: Group = { coordinator, kv, nodes: new Map(), children: [] };
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
  return group;
}

type View = { primary: number | null; secondaries: number[] };

function viewOf(group: Group): Promise<View> {
  return new Promise((res, rej) => {
    const socket = connect(group.coordinator);
    let text = '';
    socket.once('connect', () => socket.write('{"id":1,"type":"map"}\n'));
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      socket.end();
      res((JSON.parse(text.slice(0, nl)) as { map: { views: View[] } }).map.views[0]!);
    });
    socket.on('error', rej);
  });
}

async function waitForView(group: Group, ok: (v: View) => boolean): Promise<View> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await viewOf(group);
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`the group did not reach the expected view: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopGroup(group: Group): Promise<void> {
  for (const c of group.children) c.kill('SIGKILL');
  await Promise.all(group.children.map((c) => (c.exitCode === null && c.signalCode === null
    ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
}

async function drive(ops: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < ops) await op(next++);
  }));
  return ops / (Number(process.hrtime.bigint() - started) / 1e9);
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

/** Replicated PUT/s and Redis SET/s, medians of alternating rounds. */
async function throughput(root: string): Promise<{ ours: number; redis: number }> {
  const group = await startGroup(join(root, 'throughput'));
  const redisDir = join(root, 'redis');
  mkdirSync(redisDir);
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--appendonly', 'yes',
    '--appendfsync', 'always', '--dir', redisDir, '--save', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  group.children.push(redis);
  await waitForLine(redis, /Ready to accept connections/, 'redis-server', WAIT_MS);
  const kv = new KvClient({ cluster: group.kv, coordinator: group.coordinator, valueBytesMax: 1024 * 1024, requestTimeoutMs: 30_000 });
  const resp = await Promise.all([RespClient.connect(redisPort), RespClient.connect(redisPort)]);
  try {
    const value = Buffer.alloc(VALUE_BYTES, 7);
    await drive(500, (i) => kv.put(`warm-${i}`, 'v', value));
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runs = [
        async (): Promise<void> => { ours.push(await drive(PUTS, (i) => kv.put(`k-${i % 10_000}`, 'v', value))); },
        async (): Promise<void> => { theirs.push(await drive(PUTS, (i) => resp[i % 2]!.set(`k-${i % 10_000}`, value))); },
      ];
      if (round % 2 === 1) runs.reverse();
      for (const run of runs) await run();
    }
    return { ours: median(ours), redis: median(theirs) };
  } finally {
    kv.close();
    for (const r of resp) r.close();
    await stopGroup(group);
  }
}

/** One kill: ms from kill -9 of the primary to the first write issued after it that succeeds. */
async function oneFailover(root: string): Promise<number> {
  const group = await startGroup(root);
  const kv = new KvClient({ cluster: group.kv, coordinator: group.coordinator, valueBytesMax: 1024 * 1024, requestTimeoutMs: 30_000 });
  try {
    const view = await viewOf(group);
    let killedAtMs = Number.POSITIVE_INFINITY;
    let recoveredMs: number | null = null;
    let running = true;
    let next = 0;
    const writers = Array.from({ length: WRITERS }, async () => {
      while (running) {
        const issuedAtMs = Date.now();
        try {
          await kv.put(`load-${next++}`, 'v', 'x');
          if (issuedAtMs >= killedAtMs && recoveredMs === null) recoveredMs = Date.now() - killedAtMs;
        } catch {
          // outcome unknown; the next write tells
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1_000)); // a steady load first
    killedAtMs = Date.now();
    group.nodes.get(view.primary!)!.kill('SIGKILL');
    const deadline = Date.now() + WAIT_MS;
    while (recoveredMs === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    running = false;
    await Promise.all(writers);
    if (recoveredMs === null) throw new Error('no write succeeded after the kill');
    return recoveredMs;
  } finally {
    kv.close();
    await stopGroup(group);
  }
}

async function main(): Promise<number> {
  if (spawnSync('redis-server', ['--version']).error !== undefined) {
    process.stderr.write('failover-bench: redis-server is not installed; it is the reference run (Debian: apt-get install -y redis-server)\n');
    return 1;
  }
  setLogLevel('error');
  const root = mkdtempSync(join(tmpdir(), 'penncloud-failover-bench-'));
  try {
    const t = await throughput(root);
    const ratio = t.ours / t.redis;
    process.stdout.write(`\nreplicated PUT ${VALUE_BYTES} B (3 replicas, fsync on each): ${t.ours.toFixed(0)} ops/s; redis SET (appendfsync always): ${t.redis.toFixed(0)} ops/s; ratio ${ratio.toFixed(2)} (target >= 0.3: ${ratio >= 0.3 ? 'ok' : 'MISSED'})\n`);
    process.stdout.write(`(${IN_FLIGHT} requests in flight; median of ${ROUNDS} runs of ${PUTS} writes)\n\n`);
    const times: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      times.push(await oneFailover(join(root, `kill-${k}`)));
      process.stdout.write(`kill ${k + 1}: next successful write ${times.at(-1)} ms after kill -9 of the primary\n`);
    }
    const m = median(times);
    process.stdout.write(`\nfailover: median ${m} ms, min ${Math.min(...times)} ms, max ${Math.max(...times)} ms over ${KILLS} kills `
      + `(heartbeat ${HEARTBEAT_INTERVAL_MS} ms, failure timeout ${FAILURE_TIMEOUT_MS} ms; target < 1500 ms: ${m < 1500 ? 'ok' : 'MISSED'})\n`);
    return 0;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`failover-bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
