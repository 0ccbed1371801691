/** Driving a store with a fixed number of requests in flight, and the figures of a run. */

export interface LoadResult {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `ops` operations with `inFlight` of them outstanding at any moment. */
export async function drive(ops: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<LoadResult> {
  const latenciesNs = new Float64Array(ops);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, async () => {
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

/** The median run by throughput (the machine is shared, so single runs are noisy). */
export function medianResult(results: readonly LoadResult[]): LoadResult {
  return [...results].sort((a, b) => a.opsPerSec - b.opsPerSec)[results.length >> 1]!;
}
