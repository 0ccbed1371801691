import { expect } from 'chai';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KvStore } from '../../lib/kvserver/kv-store.js';
import { readManifest } from '../../lib/kvserver/manifest.js';
import { openKvStore } from '../../lib/kvserver/recovery.js';
import type { WalRecord } from '../../lib/kvserver/wal-record.js';
import { setLogLevel } from '../../lib/protocol/log.js';
import { encoded, storeOptions } from './store-options.js';

/** Small enough that the rows below split the key space several times. */
const SPLIT_BYTES = 128 * 1024;
/** Large enough that a store never decides a split of its own. */
const NEVER_SPLIT_BYTES = 1024 * 1024 * 1024;
const ROWS = 300;
const VALUE_BYTES = 2048;

function valueOf(row: string): Buffer {
  return Buffer.alloc(VALUE_BYTES, row);
}

function ranges(store: KvStore): Array<[string, string | null]> {
  return store.slots.all().map((s) => [s.start, s.end]);
}

async function valueAt(store: KvStore, row: string): Promise<Buffer | null> {
  const reply = await store.execute({ op: 'GET', row, column: 'c' }, { clientId: '0000000000000000', requestId: 0 });
  return reply.status === 'VALUE' ? reply.value : null;
}

describe('kvserver: a split is a logged decision every copy makes alike (real files)', function () {
  const dirs: string[] = [];
  const stores: KvStore[] = [];

  async function open(dir: string, tabletSplitBytes: number): Promise<KvStore> {
    const store = await openKvStore(storeOptions(dir, {
      memoryBudgetBytes: 64 * 1024 * 1024, tabletSplitBytes, checkpointLogBytes: 64 * 1024 * 1024,
    }), [{ start: '', end: null }]);
    stores.push(store);
    return store;
  }

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'penncloud-split-'));
    dirs.push(dir);
    return dir;
  }

  beforeEach(() => setLogLevel('silent'));
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a copy fed the log splits at the same rows; a crash before the halves are named replays the splits', async () => {
    const primary = await open(tempDir(), SPLIT_BYTES);
    const rows = Array.from({ length: ROWS }, (_v, i) => `row-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < rows.length; i += 25) {
      await Promise.all(rows.slice(i, i + 25).map((row, j) =>
        primary.execute({ op: 'PUT', row, column: 'c', value: valueOf(row) }, { clientId: '00000000000000aa', requestId: i + j + 1 })));
    }
    await primary.maintenance.idle(Number.POSITIVE_INFINITY);
    const split = ranges(primary);
    expect(split.length, 'the primary split its tablet').to.be.greaterThan(2);
    const log = (await primary.readLogAfter(0, 10_000))!.records;
    const splitRows = log.filter((r) => r.op === 'SPLIT').map((r) => r.row);
    expect([...splitRows].sort(), 'one SPLIT record per tablet start').to.deep.equal(split.slice(1).map(([start]) => start));

    // A copy: the same records in the same order, and no split size of its own to decide by.
    const copyDir = tempDir();
    const copy = await open(copyDir, NEVER_SPLIT_BYTES);
    let release!: () => void;
    const naming = copy.maintenance.exclusive(() => new Promise<void>((resolve) => { release = resolve; }));
    for (const record of log) {
      const owned: WalRecord = record.op === 'PUT' ? { ...record, value: Buffer.from(record.value) } : record;
      expect(await copy.applyReplicated(encoded(owned)), `record ${record.seq}`).to.equal(true);
    }
    expect(ranges(copy), 'the copy split at the same rows').to.deep.equal(split);
    await copy.waitDurable(copy.lastSeq);

    // What a crash now leaves on disk: the log holds the splits, the manifest names none of them.
    const crashedDir = tempDir();
    cpSync(copyDir, crashedDir, { recursive: true });
    expect((await readManifest(crashedDir))!.tablets, 'the halves are not named yet').to.have.length(1);

    release();
    await naming;
    // The next checkpoint round names them (checkpoints, then a manifest naming every tablet).
    await copy.maintenance.exclusive(() => copy.maintenance.nameTablets());
    expect((await readManifest(copyDir))!.tablets.map((t) => [t.start, t.end]), 'the copy named its halves').to.deep.equal(split);

    const recovered = await open(crashedDir, NEVER_SPLIT_BYTES);
    expect(ranges(recovered), 'recovery replayed the splits').to.deep.equal(split);
    for (const row of rows) expect((await valueAt(recovered, row))?.equals(valueOf(row)), row).to.equal(true);
    await recovered.maintenance.exclusive(() => recovered.maintenance.nameTablets());
    expect((await readManifest(crashedDir))!.tablets.map((t) => [t.start, t.end])).to.deep.equal(split);

    // Named now: a restart starts from the halves and makes no split twice.
    await recovered.close();
    const again = await open(crashedDir, NEVER_SPLIT_BYTES);
    expect(ranges(again)).to.deep.equal(split);
    for (const row of rows) expect((await valueAt(again, row))?.equals(valueOf(row)), row).to.equal(true);
  });

  it('a store that does not decide splits never splits on its own', async () => {
    const dir = tempDir();
    const store = await open(dir, SPLIT_BYTES);
    // A replicating secondary: it may not sequence, so it waits for its primary's SPLIT records.
    store.replication = {
      view: 1, canSequence: () => false, sequenced: () => undefined,
      waitCommitted: () => Promise.resolve(),
      whenCommitted: <T>(_seq: number, committed: () => T) => Promise.resolve(committed()),
    };
    for (let i = 0; i < 200; i++) {
      const row = `r-${String(i).padStart(4, '0')}`;
      const record: WalRecord = { seq: store.lastSeq + 1, view: 1, op: 'PUT', row, column: 'c', value: valueOf(row), clientId: '00000000000000bb', requestId: i + 1 };
      await store.applyReplicated(encoded(record));
    }
    await store.maintenance.idle(Number.POSITIVE_INFINITY);
    expect(store.status().tablets[0]!.bytes).to.be.greaterThan(SPLIT_BYTES);
    expect(ranges(store)).to.deep.equal([['', null]]);
  });
});
