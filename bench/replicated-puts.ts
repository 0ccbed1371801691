/**
 * Replicated PUTs (every write fsynced on all three replicas of a group before the reply)
 * against a durable Redis SET, in alternating rounds of the same run with the same number of
 * requests in flight. Shared by bench:kv and bench:failover. Target: at least 0.3x Redis.
 */
import { join } from 'node:path';
import { groupClient, startGroup, stopGroup } from './bench-group.js';
import { drive, medianResult, type LoadResult } from './load-driver.js';

/** The replicated store should reach this fraction of Redis's durable SET throughput. */
export const REPLICATED_PUT_TARGET_RATIO = 0.3;
/**
 * PUTs before the measured rounds, so connections and the log are warm and the three node
 * processes run optimized code: the rounds measure the steady state, as Redis's do. Rounds of
 * 10,000 after 5,000 PUTs still climbed from about 19,000 to 31,000 ops/s over the first
 * 50,000 (V8 optimizing the nodes' hot paths, their heaps growing), then held there.
 */
const WARM_PUTS = 50_000;
/** Keys the PUTs cycle through. */
const KEYS = 10_000;

export interface ReplicatedPutOptions {
  inFlight: number;
  /** PUTs per round for each store; each figure is the median of `rounds` rounds. */
  puts: number;
  rounds: number;
  valueBytes: number;
}

/**
 * Starts a group in `root/replicated`, measures it and `redisSet` (a durable Redis), and stops
 * the group. The medians of each.
 */
export async function compareReplicatedPuts(root: string, redisSet: (key: string, value: Buffer) => Promise<unknown>,
  options: ReplicatedPutOptions): Promise<{ ours: LoadResult; redis: LoadResult }> {
  const group = await startGroup(join(root, 'replicated'));
  const kv = groupClient(group);
  try {
    const value = Buffer.alloc(options.valueBytes, 7);
    await drive(WARM_PUTS, options.inFlight, (i) => kv.put(`warm-${i}`, 'v', value));
    await drive(WARM_PUTS, options.inFlight, (i) => redisSet(`warm-${i}`, value));
    const ours: LoadResult[] = [];
    const theirs: LoadResult[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const runs = [
        async (): Promise<void> => { ours.push(await drive(options.puts, options.inFlight, (i) => kv.put(`k-${i % KEYS}`, 'v', value))); },
        async (): Promise<void> => { theirs.push(await drive(options.puts, options.inFlight, (i) => redisSet(`k-${i % KEYS}`, value))); },
      ];
      // Alternate who goes first, so neither always meets the other's leftovers.
      if (round % 2 === 1) runs.reverse();
      for (const run of runs) await run();
    }
    return { ours: medianResult(ours), redis: medianResult(theirs) };
  } finally {
    kv.close();
    await stopGroup(group);
  }
}
