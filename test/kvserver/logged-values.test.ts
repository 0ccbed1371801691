import { expect } from 'chai';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyCheckpointBytes } from '../../lib/kvserver/checkpoint-codec.js';
import type { KvStore, KvStoreOptions } from '../../lib/kvserver/kv-store.js';
import { LoggedValue } from '../../lib/kvserver/logged-value.js';
import { KvStartError, openKvStore } from '../../lib/kvserver/recovery.js';
import { setLogLevel } from '../../lib/protocol/log.js';
import type { KvReplyBody } from '../../lib/protocol/kv-wire.js';
import { storeOptions } from './store-options.js';

const ORIGIN = { clientId: '0102030405060708', requestId: 1 };
const KIB = 1024;
/** Values from this length on are kept in the log. */
const LOGGED_MIN = 32 * KIB;

function valueOf(seed: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (seed * 131 + i * 7) & 0xff;
  return b;
}

function checkpointFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^tablet-\d+\.ckpt$/.test(f));
}

/** Segments a store's checkpoints keep values in, with those values' bytes. */
function loggedInCheckpoints(dir: string): Map<number, number> {
  const all = new Map<number, number>();
  for (const f of checkpointFiles(dir)) {
    for (const [segment, n] of verifyCheckpointBytes(readFileSync(join(dir, f))).loggedBytes) all.set(segment, (all.get(segment) ?? 0) + n);
  }
  return all;
}

/** Long values kept in the log instead of memory and checkpoints (real files). */
describe('store: long values kept in the log', function () {
  let dir: string;
  let store: KvStore;
  let requestId = 1;

  const options = (): KvStoreOptions => storeOptions(dir, {
    valueBytesMax: 256 * KIB, memoryBudgetBytes: 16 * 1024 * KIB, tabletSplitBytes: 8 * 1024 * KIB,
    checkpointLogBytes: 256 * KIB, logValueBytesMin: LOGGED_MIN,
  });
  const open = async (): Promise<KvStore> => openKvStore(options(), [{ start: '', end: null }]);
  const put = async (row: string, value: Buffer): Promise<void> => {
    const reply = await store.execute({ op: 'PUT', row, column: 'c', value }, { ...ORIGIN, requestId: requestId++ });
    expect(reply.status, `PUT ${row}`).to.equal('OK');
  };
  const get = async (row: string): Promise<KvReplyBody> => store.execute({ op: 'GET', row, column: 'c' }, ORIGIN);
  const expectValue = async (row: string, value: Buffer): Promise<void> => {
    const reply = await get(row);
    expect(reply.status, `GET ${row}`).to.equal('VALUE');
    expect(reply.status === 'VALUE' && reply.value.equals(value), `${row} holds its exact bytes`).to.equal(true);
  };

  beforeEach(async () => {
    setLogLevel('silent');
    dir = mkdtempSync(join(tmpdir(), 'penncloud-logged-'));
    store = await open();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a long value as its place in the log once durable, reads it back exact, and checkpoints the place, across a restart', async () => {
    const long = Array.from({ length: 8 }, (_v, i) => valueOf(i, 100 * KIB + i));
    for (let i = 0; i < long.length; i++) await put(`long-${i}`, long[i]!);
    await put('short', valueOf(99, LOGGED_MIN - 1));
    const tablet = store.slots.all()[0]!.tablet!;
    expect(tablet.get('long-3', 'c')).to.be.instanceOf(LoggedValue);
    expect(Buffer.isBuffer(tablet.get('short', 'c')), 'a value under the limit stays in memory').to.equal(true);
    // Memory holds the short value and references; the tablet's size counts every value whole.
    expect(store.memoryBytes).to.be.within(LOGGED_MIN, LOGGED_MIN + 4 * KIB);
    expect(store.status().tablets[0]!.bytes).to.be.greaterThan(8 * 100 * KIB + LOGGED_MIN);
    for (let i = 0; i < long.length; i++) await expectValue(`long-${i}`, long[i]!);
    // A CPUT compares against the logged bytes.
    const cput = await store.execute({ op: 'CPUT', row: 'long-0', column: 'c', expected: { kind: 'value', value: long[0]! }, value: long[1]! }, { ...ORIGIN, requestId: requestId++ });
    expect(cput.status).to.equal('OK');
    await expectValue('long-0', long[1]!);
    const mismatch = await store.execute({ op: 'CPUT', row: 'long-2', column: 'c', expected: { kind: 'value', value: long[0]! }, value: long[0]! }, { ...ORIGIN, requestId: requestId++ });
    expect(mismatch.status).to.equal('CPUT_MISMATCH');
    expect(mismatch.status === 'CPUT_MISMATCH' && mismatch.current!.equals(long[2]!)).to.equal(true);

    // Past the checkpoint threshold: a round checkpoints the tablet with references, not bytes.
    for (let i = 0; i < 4; i++) await put(`more-${i}`, valueOf(50 + i, 100 * KIB));
    await store.maintenance.idle(10_000);
    expect(store.lastCheckpoint, 'a checkpoint round ran').to.not.equal(null);
    const checkpoint = checkpointFiles(dir).map((f) => statSync(join(dir, f)).size).reduce((a, b) => a + b, 0);
    // A value applied but not yet durable when the tablet was encoded is in the file: at most
    // the writes of one group commit (here, one at a time).
    expect(checkpoint, 'checkpoint bytes').to.be.lessThan(LOGGED_MIN + 100 * KIB + 8 * KIB);
    const kept = loggedInCheckpoints(dir);
    expect([...kept.values()].reduce((a, b) => a + b, 0), 'value bytes the checkpoint keeps in the log').to.be.at.least(7 * 100 * KIB);
    for (const segment of kept.keys()) expect(store.wal!.segments.map((s) => s.firstSeq), 'the log keeps the segments its values lie in').to.include(segment);

    await store.close();
    store = await open();
    await expectValue('long-0', long[1]!);
    for (let i = 1; i < long.length; i++) await expectValue(`long-${i}`, long[i]!);
    for (let i = 0; i < 4; i++) await expectValue(`more-${i}`, valueOf(50 + i, 100 * KIB));
    await expectValue('short', valueOf(99, LOGGED_MIN - 1));
    expect(store.memoryBytes, 'loaded again, the tablet holds references').to.be.lessThan(LOGGED_MIN + 100 * KIB + 8 * KIB);
  });

  it('keeps the log its values lie in, and reads the oldest values back once that log outgrows them', async () => {
    const keep = valueOf(1, 100 * KIB);
    await put('keep', keep);
    // Overwrites of one cell: every older copy is garbage in the log, which the first value
    // still holds from its segment on.
    for (let i = 0; i < 30; i++) await put('churn', valueOf(100 + i, 100 * KIB));
    await store.maintenance.idle(10_000);
    // In use: two values of 100 KiB. Held for them at most twice that past the threshold, plus
    // what a round lets the log grow by before it looks again.
    const limit = Math.max(256 * KIB, 2 * 200 * KIB) + 2 * 256 * KIB;
    expect(store.wal!.retainedBytes, 'log bytes kept').to.be.lessThan(limit);
    const tablet = store.slots.all()[0]!.tablet!;
    expect(Buffer.isBuffer(tablet.get('keep', 'c')), 'the oldest value was read back into memory').to.equal(true);
    await expectValue('keep', keep);
    await expectValue('churn', valueOf(129, 100 * KIB));
    await store.close();
    store = await open();
    await expectValue('keep', keep);
    await expectValue('churn', valueOf(129, 100 * KIB));
  });

  it('reports a damaged logged value as an error naming the segment, never its bytes', async () => {
    await put('r', valueOf(7, 100 * KIB));
    const stored = store.slots.all()[0]!.tablet!.get('r', 'c');
    expect(stored).to.be.instanceOf(LoggedValue);
    const place = stored as LoggedValue;
    const fd = openSync(join(dir, `wal-${String(place.segment).padStart(20, '0')}.log`), 'r+');
    try {
      writeSync(fd, Buffer.from([0xee]), 0, 1, place.position + place.recordBytes - 10);
    } finally {
      closeSync(fd);
    }
    const reply = await get('r');
    expect(reply.status).to.equal('INTERNAL');
    expect(reply.status === 'INTERNAL' && reply.message).to.match(/wal-0+1\.log at byte \d+: record checksum mismatch/);
  });

  it('refuses to start when a segment a checkpoint keeps values in is missing', async () => {
    for (let i = 0; i < 6; i++) await put(`long-${i}`, valueOf(i, 100 * KIB));
    await store.maintenance.idle(10_000);
    const kept = [...loggedInCheckpoints(dir).keys()];
    expect(kept.length).to.be.greaterThan(0);
    await store.close();
    // The oldest segment the log holds: no later segment misses its predecessor.
    const oldest = Math.min(...kept);
    expect(store.wal!.segments[0]!.firstSeq).to.equal(oldest);
    unlinkSync(join(dir, `wal-${String(oldest).padStart(20, '0')}.log`));
    let refused: unknown = null;
    try {
      store = await open();
    } catch (err) {
      refused = err;
    }
    const broken = dir;
    dir = mkdtempSync(join(tmpdir(), 'penncloud-logged-'));
    if (refused === null) await store.close();
    store = await open(); // for afterEach
    rmSync(broken, { recursive: true, force: true });
    expect(refused).to.be.instanceOf(KvStartError);
    expect((refused as Error).message).to.match(/keeps values in log segment wal-\d+\.log, which is missing/);
  });

  it('starts without reading the segments kept only for their values, and checks a value from them when it is read', async () => {
    const long = Array.from({ length: 6 }, (_v, i) => valueOf(i, 100 * KIB));
    for (let i = 0; i < long.length; i++) await put(`long-${i}`, long[i]!);
    for (let i = 0; i < 6; i++) await put(`more-${i}`, valueOf(20 + i, 100 * KIB));
    await store.maintenance.idle(10_000);
    const first = store.wal!.segments[0]!;
    expect(store.wal!.segments.length, 'segments kept').to.be.greaterThan(1);
    const place = store.slots.all()[0]!.tablet!.get('long-0', 'c') as LoggedValue;
    expect(place).to.be.instanceOf(LoggedValue);
    expect(place.segment, 'the first value lies in the oldest segment').to.equal(first.firstSeq);
    await store.close();
    // Damage in a segment every checkpoint is past: replay would refuse to start over it.
    const fd = openSync(join(dir, first.file), 'r+');
    try {
      writeSync(fd, Buffer.from([0x5a]), 0, 1, place.position + place.recordBytes - 1);
    } finally {
      closeSync(fd);
    }
    store = await open();
    const reply = await get('long-0');
    expect(reply.status, 'the damaged value').to.equal('INTERNAL');
    for (let i = 1; i < long.length; i++) await expectValue(`long-${i}`, long[i]!);
    for (let i = 0; i < 6; i++) await expectValue(`more-${i}`, valueOf(20 + i, 100 * KIB));
  });
});
