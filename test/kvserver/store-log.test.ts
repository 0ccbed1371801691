import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint } from '../../lib/kvserver/checkpoint-codec.js';
import type { KvStore } from '../../lib/kvserver/kv-store.js';
import { openKvStore } from '../../lib/kvserver/recovery.js';
import { CHECKPOINT_WRITE_PER_LOG_MAX } from '../../lib/kvserver/tablet-maintenance.js';
import { setLogLevel } from '../../lib/protocol/log.js';
import { storeOptions } from './store-options.js';

const ORIGIN = { clientId: '0102030405060708', requestId: 1 };

/** What a peer catching up needs from a store: the log after a seq, or a tablet snapshot. */
describe('store: log after a sequence number, tablet snapshots', function () {
  let dir: string;
  let store: KvStore;

  beforeEach(async () => {
    setLogLevel('silent');
    dir = mkdtempSync(join(tmpdir(), 'penncloud-store-'));
    store = await openKvStore(storeOptions(dir, { checkpointLogBytes: 64 * 1024 }), [{ start: '', end: 'm' }, { start: 'm', end: null }]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns every durable record after a seq, in order, with its origin', async () => {
    await store.execute({ op: 'PUT', row: 'a', column: 'c', value: Buffer.from('1') }, ORIGIN);
    await store.execute({ op: 'PUT', row: 'z', column: 'c', value: Buffer.from('2') }, { ...ORIGIN, requestId: 2 });
    await store.execute({ op: 'DELETE', row: 'a', column: 'c' }, { ...ORIGIN, requestId: 3 });
    const all = await store.readLogAfter(0, 100);
    expect(all!.records.map((r) => [r.seq, r.op, r.row, r.requestId])).to.deep.equal([
      [1, 'PUT', 'a', 1], [2, 'PUT', 'z', 2], [3, 'DELETE', 'a', 3],
    ]);
    expect(all!.records[0]!.clientId).to.equal(ORIGIN.clientId);
    const tail = await store.readLogAfter(1, 1);
    expect(tail).to.deep.include({ more: true });
    expect(tail!.records.map((r) => r.seq)).to.deep.equal([2]);
  });

  it('applies a retried request (same client id and request id) at most once', async () => {
    expect(await store.execute({ op: 'CPUT', row: 'a', column: 'c', expected: { kind: 'absent' }, value: Buffer.from('1') }, ORIGIN)).to.deep.equal({ status: 'OK' });
    await store.execute({ op: 'PUT', row: 'a', column: 'c', value: Buffer.from('2') }, { ...ORIGIN, requestId: 2 });
    // The retry of the first CPUT would now mismatch (and, as a PUT, overwrite): it answers OK, changes nothing.
    expect(await store.execute({ op: 'CPUT', row: 'a', column: 'c', expected: { kind: 'absent' }, value: Buffer.from('1') }, ORIGIN)).to.deep.equal({ status: 'OK' });
    const got = await store.execute({ op: 'GET', row: 'a', column: 'c' }, { ...ORIGIN, requestId: 3 });
    expect(got.status === 'VALUE' && got.value.toString()).to.equal('2');
    expect((await store.readLogAfter(0, 100))!.records.map((r) => r.seq)).to.deep.equal([1, 2]);
  });

  it('says a snapshot is needed once the log was truncated, and the snapshot holds the data', async () => {
    const value = Buffer.alloc(16 * 1024, 5);
    // Each row written twice: the log outgrows what a checkpoint round would write, so one runs.
    for (let i = 0; i < 24; i++) await store.execute({ op: 'PUT', row: `r${i % 12}`, column: 'c', value }, { ...ORIGIN, requestId: 100 + i });
    await store.maintenance.idle(Number.POSITIVE_INFINITY);
    for (let i = 12; i < 20; i++) await store.execute({ op: 'PUT', row: `r${i}`, column: 'c', value }, { ...ORIGIN, requestId: 200 + i });
    await store.maintenance.idle(Number.POSITIVE_INFINITY);
    expect(store.status().log.firstSeq).to.be.greaterThan(1);
    expect(await store.readLogAfter(0, 100)).to.equal(null);
    const snapshot = await store.snapshotTablet('m');
    const { header, tablet } = decodeCheckpoint(snapshot!.bytes);
    expect(header.seq).to.equal(snapshot!.seq);
    expect(snapshot!.seq).to.equal(32);
    expect(tablet.rowCount).to.equal(20);
    expect((tablet.get('r19', 'c') as Buffer).equals(value)).to.equal(true);
    expect(await store.snapshotTablet('q')).to.equal(null);
  });

  it('does not start a checkpoint round per write while a pin holds the log, and drops it once the pin goes', async () => {
    let rounds = 0;
    const info = store.log.info.bind(store.log);
    store.log.info = (message, fields) => {
      if (message === 'checkpoint round') rounds++;
      info(message, fields);
    };
    store.pinLog(99, 1); // a peer being sent a snapshot needs every record from seq 1 on
    const value = Buffer.alloc(1024, 1);
    for (let i = 0; i < 400; i++) await store.execute({ op: 'PUT', row: `r${i % 50}`, column: 'c', value }, { ...ORIGIN, requestId: i + 1 });
    await store.maintenance.idle(10_000);
    // 400 KiB of log over a 64 KiB threshold: a round per threshold of growth, not per write.
    expect(store.wal!.retainedBytes).to.be.greaterThan(6 * 64 * 1024);
    expect(rounds).to.be.within(1, 8);
    store.unpinLog(99);
    await store.execute({ op: 'PUT', row: 'after', column: 'c', value }, { ...ORIGIN, requestId: 1000 });
    await store.maintenance.idle(10_000);
    expect(store.wal!.retainedBytes).to.be.lessThan(64 * 1024);
  });

  it('does not rewrite a tablet every threshold of log: a round waits until it writes at most twice the log it drops', async () => {
    let rounds = 0;
    let logAtRound = 0;
    const info = store.log.info.bind(store.log);
    store.log.info = (message, fields) => {
      if (message === 'checkpoint round') rounds++;
      info(message, fields);
    };
    const roll = store.wal!.roll.bind(store.wal!);
    store.wal!.roll = () => {
      logAtRound = store.wal!.retainedBytes;
      return roll();
    };
    // 1 MiB of rows in one tablet, checkpointed as they come (new rows: the log keeps up).
    const big = Buffer.alloc(16 * 1024, 2);
    for (let i = 0; i < 64; i++) await store.execute({ op: 'PUT', row: `a${i}`, column: 'c', value: big }, { ...ORIGIN, requestId: 2000 + i });
    await store.maintenance.idle(10_000);
    expect(rounds, 'rounds while the tablet filled').to.be.greaterThan(0);
    rounds = 0;
    // Small overwrites of that tablet: each dirties the whole tablet again, so a round would
    // rewrite 1 MiB. None runs while the log is under half of that, though it passes the 64 KiB
    // threshold several times over; one runs once it reaches half.
    const small = Buffer.alloc(1024, 3);
    const put = (i: number): Promise<unknown> => Promise.resolve(store.execute({ op: 'PUT', row: 'a0', column: 'd', value: small }, { ...ORIGIN, requestId: 3000 + i }));
    for (let i = 0; i < 2000 && rounds === 0; i++) await put(i);
    await store.maintenance.idle(10_000);
    const dirty = store.status().tablets[0]!.bytes;
    expect(dirty).to.be.greaterThan(1024 * 1024);
    expect(rounds, 'one round over all those writes').to.equal(1);
    expect(logAtRound, 'the log when the round began').to.be.within(dirty / CHECKPOINT_WRITE_PER_LOG_MAX, dirty / CHECKPOINT_WRITE_PER_LOG_MAX + 64 * 1024);
    expect(logAtRound).to.be.greaterThan(4 * 64 * 1024);
    expect(store.wal!.retainedBytes).to.be.lessThan(64 * 1024);
  });
});
