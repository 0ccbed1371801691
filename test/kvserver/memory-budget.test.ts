import { expect } from 'chai';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { cleanup, cleanupNodesOnly, clientFor, makeCluster, startNode, track, valueFor, type TestCluster } from './node-process.js';

const MIB = 1024 * 1024;
const BUDGET_BYTES = 10 * MIB;
const SPLIT_BYTES = 8 * MIB;
const VALUE_BYTES = 64 * 1024;
/** 1600 values of 64 KiB: 100 MiB of values. */
const KEYS = 1600;
const CONCURRENCY = 16;

function keyOf(i: number): string {
  // Scatter keys over the key space so that writes and reads hop between tablets.
  const h = (Math.imul(i, 2654435761) >>> 0).toString(16).padStart(8, '0');
  return `${h}-${i}`;
}

/** A fixed pseudo-random order so reads do not follow the write order. */
function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_v, i) => i);
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

async function inParallel(items: number[], fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

describe('memory budget: 100 MB stored under a 10 MB budget', function () {
  this.timeout(180_000);
  let cluster: TestCluster;
  const hardLimitBytes = BUDGET_BYTES + SPLIT_BYTES + 2 * MIB;
  let memoryMaxSeen = 0;

  async function sampleMemory(kv: KvClient): Promise<void> {
    const s = await kv.status();
    memoryMaxSeen = Math.max(memoryMaxSeen, s.memoryBytes);
  }

  async function readAll(kv: KvClient): Promise<void> {
    await inParallel(shuffled(KEYS), async (i) => {
      const key = keyOf(i);
      const got = await kv.get(key, 'v');
      expect(got, key).to.not.equal(null);
      expect(got!.equals(valueFor(key, VALUE_BYTES)), key).to.equal(true);
      if (i % 100 === 0) await sampleMemory(kv);
    });
  }

  before(async () => {
    cluster = track(await makeCluster({
      // Values stay in memory (none reaches logValueBytesMin), so only eviction keeps the budget.
      kv: { memoryBudgetBytes: BUDGET_BYTES, tabletSplitBytes: SPLIT_BYTES, valueBytesMax: MIB, checkpointLogBytes: 16 * MIB, logValueBytesMin: MIB },
    }));
  });
  after(cleanup);

  it('stores 100 MB, evicting and reloading tablets, and reads every byte back', async () => {
    await startNode(cluster, 0);
    const kv = clientFor(cluster);
    await inParallel(Array.from({ length: KEYS }, (_v, i) => i), async (i) => {
      const key = keyOf(i);
      await kv.put(key, 'v', valueFor(key, VALUE_BYTES));
      if (i % 100 === 0) await sampleMemory(kv);
    });
    await readAll(kv);
    const status = await kv.status();
    const stored = status.tablets.reduce((n, t) => n + t.bytes, 0);
    expect(stored).to.be.at.least(KEYS * VALUE_BYTES);
    expect(status.tablets.length).to.be.at.least(Math.ceil(stored / SPLIT_BYTES));
    expect(status.tablets.filter((t) => !t.loaded).length).to.be.at.least(status.tablets.length - 3);
    expect(memoryMaxSeen, 'memory stayed bounded').to.be.at.most(hardLimitBytes);
  });

  it('after kill -9 and restart, recovers within the budget and still serves all 100 MB', async () => {
    await cleanupNodesOnly();
    await startNode(cluster, 0);
    const kv = clientFor(cluster);
    memoryMaxSeen = 0;
    await readAll(kv);
    expect(memoryMaxSeen, 'memory stayed bounded').to.be.at.most(hardLimitBytes);
  });
});
