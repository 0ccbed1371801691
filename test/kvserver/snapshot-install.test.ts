import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KvStore, KvStoreOptions } from '../../lib/kvserver/kv-store.js';
import { openKvStore } from '../../lib/kvserver/recovery.js';
import { installSnapshot, SnapshotRejectedError, type InstallStep, type StagedSnapshot } from '../../lib/kvserver/snapshot-install.js';
import { encodeOrigins } from '../../lib/kvserver/snapshot-origins.js';
import type { TabletRange } from '../../lib/kvserver/tablet.js';
import { setLogLevel } from '../../lib/protocol/log.js';
import { encoded, storeOptions } from './store-options.js';

const SOURCE_TABLETS: TabletRange[] = [{ start: '', end: 'm' }, { start: 'm', end: null }];
const TARGET_TABLETS: TabletRange[] = [{ start: '', end: null }];
const STEPS: InstallStep[] = ['files-renamed', 'manifest-switched', 'old-data-removed', 'manifest-settled', 'log-started'];

class Crash extends Error {}

function options(dir: string): KvStoreOptions {
  return storeOptions(dir);
}

function origin(i: number): { clientId: string; requestId: number } {
  return { clientId: '0a0b0c0d0e0f1011', requestId: i };
}

async function put(store: KvStore, row: string, value: string, requestId: number): Promise<void> {
  const reply = await store.execute({ op: 'PUT', row, column: 'c', value: Buffer.from(value) }, origin(requestId));
  expect(reply.status).to.equal('OK');
}

/** Every cell of a store as "row/column=value", in order. */
async function cells(store: KvStore): Promise<string[]> {
  const out: string[] = [];
  for (const slot of store.slots.all()) {
    await store.ensureLoaded(slot);
    for (const [row, column, value] of slot.tablet!.cells()) out.push(`${row}/${column}=${value.toString()}`);
  }
  return out;
}

describe('kvserver: installing a snapshot (real files; a crash after every durable step)', function () {
  const dirs: string[] = [];
  const open: KvStore[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'penncloud-install-'));
    dirs.push(dir);
    return dir;
  };
  const openStore = async (dir: string, tablets: TabletRange[]): Promise<KvStore> => {
    const store = await openKvStore(options(dir), tablets);
    open.push(store);
    return store;
  };

  before(() => setLogLevel('silent'));
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close().catch(() => undefined);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A primary's store with two tablets: the snapshot point is seq 6; the second tablet is
   * taken one write later (seq 7), as a tablet encoded after others in a stream may be.
   */
  async function sourceSnapshot(): Promise<{ source: KvStore; snapshot: { seq: number; seqView: number; coveredSeq: number; tablets: Buffer[]; origins: Buffer }; expected: string[] }> {
    const source = await openStore(tempDir(), SOURCE_TABLETS);
    for (const [i, row] of ['a', 'b', 'x', 'y', 'b'].entries()) await put(source, row, `v${i}`, i + 1);
    await source.execute({ op: 'DELETE', row: 'x', column: 'c' }, origin(6));
    const seq = source.lastSeq;
    const origins = encodeOrigins(source.origins.entries(), seq);
    const left = await source.snapshotTablet('');
    await put(source, 'z', 'late', 7);
    const right = await source.snapshotTablet('m');
    expect([left!.seq, right!.seq]).to.deep.equal([6, 7]);
    return {
      source,
      snapshot: { seq, seqView: 0, coveredSeq: right!.seq, tablets: [left!.bytes, right!.bytes], origins },
      expected: await cells(source),
    };
  }

  /** A node holding other data (its log reaches seq 9), with the snapshot staged in its directory. */
  async function targetWithStaged(snapshot: Awaited<ReturnType<typeof sourceSnapshot>>['snapshot']): Promise<{ dir: string; target: KvStore; staged: StagedSnapshot; old: string[] }> {
    const dir = tempDir();
    const target = await openStore(dir, TARGET_TABLETS);
    for (let i = 0; i < 9; i++) await put(target, `old-${i}`, `o${i}`, 100 + i);
    const files = [...snapshot.tablets, snapshot.origins].map((bytes, i) => {
      const file = join(dir, `snapshot-1-${i}.tmp`);
      writeFileSync(file, bytes);
      return file;
    });
    const staged: StagedSnapshot = {
      seq: snapshot.seq, seqView: snapshot.seqView, coveredSeq: snapshot.coveredSeq,
      tabletFiles: files.slice(0, -1), originsFile: files.at(-1)!,
    };
    return { dir, target, staged, old: await cells(target) };
  }

  for (const crashAfter of STEPS) {
    it(`recovers ${crashAfter === 'files-renamed' ? 'the old data' : 'the snapshot'} after a crash once ${crashAfter}`, async () => {
      const { snapshot, expected } = await sourceSnapshot();
      const { dir, target, staged, old } = await targetWithStaged(snapshot);
      const crash = async (step: InstallStep): Promise<void> => {
        if (step === crashAfter) throw new Crash(step);
      };
      let crashed = false;
      await installSnapshot(target, staged, crash).catch((err: unknown) => {
        crashed = err instanceof Crash;
      });
      expect(crashed).to.equal(true);
      open.splice(open.indexOf(target), 1); // abandoned, as by kill -9

      const recovered = await openStore(dir, TARGET_TABLETS);
      if (crashAfter === 'files-renamed') {
        expect(await cells(recovered)).to.deep.equal(old);
        expect(recovered.lastSeq).to.equal(9);
        expect(recovered.snapshotPoint).to.equal(null);
      } else {
        expect(await cells(recovered)).to.deep.equal(expected);
        expect(recovered.lastSeq, 'holds the log up to the snapshot point only').to.equal(6);
        expect(recovered.snapshotPoint).to.deep.include({ seq: 6, coveredSeq: 7 });
        expect(recovered.origins.seqOf(origin(2)), 'remembers the snapshot\'s origins').to.equal(2);
        expect(recovered.origins.seqOf(origin(100)), 'forgot its own old writes').to.equal(undefined);
      }
      // Nothing of the other version is left behind: no temp file, no stray checkpoint, no old log.
      const names = readdirSync(dir);
      expect(names.filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
      expect(names.filter((n) => n.startsWith('tablet-')).length).to.equal(recovered.slots.all().length);
      expect(names.filter((n) => n.startsWith('wal-'))).to.have.length(1);
    });
  }

  it('catches up by log from the snapshot point: a record the snapshot holds is logged, not applied again', async () => {
    const { source, snapshot, expected } = await sourceSnapshot();
    const { dir, target, staged } = await targetWithStaged(snapshot);
    await installSnapshot(target, staged);
    expect(await cells(target)).to.deep.equal(expected);
    expect([target.lastSeq, target.lastSeqView]).to.deep.equal([6, 0]);
    const page = await source.readLogAfter(target.lastSeq, 10);
    expect(page!.records.map((r) => r.seq)).to.deep.equal([7]);
    expect(await target.applyReplicated(encoded(page!.records[0]!))).to.equal(true);
    expect(target.lastSeq).to.equal(7);
    expect(target.origins.seqOf(origin(7))).to.equal(7);
    expect(await cells(target)).to.deep.equal(expected);
    await put(target, 'c', 'after', 8);
    await target.close();
    open.splice(open.indexOf(target), 1);
    const recovered = await openStore(dir, TARGET_TABLETS);
    expect(recovered.lastSeq).to.equal(8);
    expect(await cells(recovered)).to.deep.equal([...expected.slice(0, 2), 'c/c=after', ...expected.slice(2)]);
  });

  it('rejects a damaged or overlapping snapshot and keeps the old data', async () => {
    const { snapshot } = await sourceSnapshot();
    const { dir, target, staged, old } = await targetWithStaged(snapshot);
    const damaged = Buffer.from(snapshot.tablets[1]!);
    damaged[damaged.length - 1] ^= 1;
    writeFileSync(staged.tabletFiles[1]!, damaged);
    let rejected: unknown = null;
    await installSnapshot(target, staged).catch((err: unknown) => { rejected = err; });
    expect(rejected).to.be.instanceOf(SnapshotRejectedError);
    const overlapping = { ...staged, tabletFiles: [staged.tabletFiles[0]!, staged.tabletFiles[0]!] };
    await installSnapshot(target, overlapping).catch((err: unknown) => { rejected = err; });
    expect((rejected as Error).message).to.match(/overlaps/);
    expect(await cells(target)).to.deep.equal(old);
    await put(target, 'still', 'writable', 200);
    await target.close();
    open.splice(open.indexOf(target), 1);
    const recovered = await openStore(dir, TARGET_TABLETS);
    expect(recovered.lastSeq).to.equal(10);
  });
});
