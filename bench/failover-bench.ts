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
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLogLevel } from '../lib/protocol/log.js';
import { RespClient } from './resp-client.js';
import { FAILURE_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, groupClient, startGroup, stopGroup, viewOf } from './bench-group.js';
import { startRedis, stopChildren } from './bench-processes.js';
import { compareReplicatedPuts, REPLICATED_PUT_TARGET_RATIO } from './replicated-puts.js';

/** Requests in flight at once for the throughput runs, for both stores. */
const IN_FLIGHT = 50;
/** PUTs per throughput run; each figure is the median of ROUNDS runs. */
const PUTS = 10_000;
const ROUNDS = 3;
const VALUE_BYTES = 100;
/** Kills measured, each on a fresh group. */
const KILLS = 5;
/** Writers of the steady load during a kill. */
const WRITERS = 8;
/** Longest wait for Redis to start, or for a write to succeed after a kill. */
const WAIT_MS = 30_000;

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

/** Replicated PUT/s and Redis SET/s, medians of alternating rounds. */
async function throughput(root: string): Promise<{ ours: number; redis: number }> {
  const redisDir = join(root, 'redis');
  mkdirSync(redisDir);
  const redis = await startRedis(redisDir, WAIT_MS);
  const resp: RespClient[] = [];
  try {
    resp.push(await RespClient.connect(redis.port), await RespClient.connect(redis.port));
    let next = 0;
    const t = await compareReplicatedPuts(root, (key, value) => resp[next++ % 2]!.set(key, value),
      { inFlight: IN_FLIGHT, puts: PUTS, rounds: ROUNDS, valueBytes: VALUE_BYTES });
    return { ours: t.ours.opsPerSec, redis: t.redis.opsPerSec };
  } finally {
    for (const r of resp) r.close();
    await stopChildren([redis.child]);
  }
}

/** One kill: ms from kill -9 of the primary to the first write issued after it that succeeds. */
async function oneFailover(root: string): Promise<number> {
  const group = await startGroup(root);
  const kv = groupClient(group);
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
    process.stdout.write(`\nreplicated PUT ${VALUE_BYTES} B (3 replicas, fsync on each): ${t.ours.toFixed(0)} ops/s; redis SET (appendfsync always): ${t.redis.toFixed(0)} ops/s; ratio ${ratio.toFixed(2)} (target >= ${REPLICATED_PUT_TARGET_RATIO}: ${ratio >= REPLICATED_PUT_TARGET_RATIO ? 'ok' : 'MISSED'})\n`);
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
