import { expect } from 'chai';
import { fetchClusterMap } from '../../lib/kvclient/coordinator-map-source.js';
import { setLogLevel } from '../../lib/protocol/log.js';
import { valueFor, waitUntil } from './node-process.js';
import { GROUP_WAIT_MS, ReplicaGroup, endGroupTest } from './replica-group.js';
import { writeRows } from './write-load.js';

/** Small enough that the rows below split the group's tablet several times. */
const SPLIT_BYTES = 256 * 1024;
const ROWS_PER_PHASE = 300;
const VALUE_BYTES = 2048;

describe('kvserver: splits in a replica group (real processes)', function () {
  this.timeout(180_000);
  let group: ReplicaGroup;

  before(() => setLogLevel('silent'));
  afterEach(() => endGroupTest(group));

  async function startsOf(id: number): Promise<string[]> {
    return (await group.nodeStatus(id)).tablets.map((t) => t.start);
  }

  async function mapStarts(): Promise<string[]> {
    return (await fetchClusterMap(group.coordinatorAddress, group.secret)).tablets.map((t) => t.start);
  }

  /** Waits (bounded) until the primary holds more than `minimum` tablets, and `others` and the coordinator's map agree with it. */
  async function agreed(primary: number, others: number[], minimum: number): Promise<string[]> {
    let seen: Record<string, string[]> = {};
    await waitUntil(async () => {
      seen = { [`node ${primary} (primary)`]: await startsOf(primary), map: await mapStarts() };
      for (const id of others) seen[`node ${id}`] = await startsOf(id);
      const primaryStarts = JSON.stringify(seen[`node ${primary} (primary)`]);
      return seen[`node ${primary} (primary)`]!.length > minimum && Object.values(seen).every((s) => JSON.stringify(s) === primaryStarts);
    }, GROUP_WAIT_MS, () => `tablets disagree: ${JSON.stringify(seen)}`);
    return seen[`node ${primary} (primary)`]!;
  }

  it('every copy splits at the primary\'s rows, the coordinator registers them, and they outlive a failover', async () => {
    group = await ReplicaGroup.create('primary', (c) => {
      c.kv.tabletSplitBytes = SPLIT_BYTES;
      c.kv.valueBytesMax = 64 * 1024;
      c.drive = { chunkBytes: 64 * 1024 };
    });
    const first = await group.startAll();
    const client = group.client();
    const rows = await writeRows(client, 'a', ROWS_PER_PHASE, VALUE_BYTES);
    const before = await agreed(first.primary, first.secondaries, 2);

    // The primary dies; the new one splits further, and registers those splits itself.
    await group.kill(first.primary);
    const second = await group.waitForView(1);
    rows.push(...await writeRows(client, 'b', ROWS_PER_PHASE, VALUE_BYTES));
    const after = await agreed(second.primary, second.secondaries, before.length);
    for (const s of before) expect(after, `tablet ${s}`).to.include(s);

    // The old primary comes back, catches up, and holds the same tablets.
    await group.startNode(first.primary);
    const whole = await group.waitForView(2);
    await agreed(whole.primary, whole.secondaries, before.length);
    for (const row of rows) expect((await client.get(row, 'c'))?.equals(valueFor(row, VALUE_BYTES)), row).to.equal(true);
  });
});
