import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLogLevel, createLogger } from '../../lib/protocol/log.js';
import { recoverWal } from '../../lib/kvserver/wal-reader.js';
import type { WalRecord } from '../../lib/kvserver/wal-record.js';
import { WAL_MAGIC, segmentFileName, spareFileName } from '../../lib/kvserver/wal-segments.js';
import { WAL_PREALLOCATE_BYTES, WAL_SPARE_SEGMENTS_MAX, WalWriter } from '../../lib/kvserver/wal-writer.js';

const PAYLOAD_MAX = 1024 * 1024;
/** Small segments, so that a test rolls through many of them. */
const SEGMENT_BYTES = 16 * 1024;

function record(seq: number, valueBytes: number): WalRecord {
  const value = Buffer.alloc(valueBytes, seq % 251);
  return { seq, view: 1, op: 'PUT', row: `row-${seq}`, column: 'v', value, clientId: '00000000000000aa', requestId: seq };
}

function fail(err: Error): void {
  throw err;
}

describe('kvserver: the log writes over spare segments and preallocated zeros (real files)', function () {
  let dir: string;
  const log = createLogger('test');

  before(() => setLogLevel('silent'));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'penncloud-wal-reuse-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Appends in group commits of five records. */
  async function appendAll(wal: WalWriter, from: number, to: number, valueBytes: number): Promise<void> {
    for (let seq = from; seq <= to; seq++) {
      wal.append(record(seq, valueBytes));
      if ((seq - from) % 5 === 4 || seq === to) await wal.waitDurable(seq);
    }
    await wal.settled(); // a segment it filled is followed by the next one
  }

  async function replay(): Promise<{ seqs: number[]; values: Map<number, Buffer>; lastSeq: number }> {
    const seqs: number[] = [];
    const values = new Map<number, Buffer>();
    const result = await recoverWal(dir, PAYLOAD_MAX, log, async (r) => {
      seqs.push(r.seq);
      if (r.op === 'PUT') values.set(r.seq, Buffer.from(r.value));
    });
    return { seqs, values, lastSeq: result.lastSeq };
  }

  function names(pattern: RegExp): string[] {
    return readdirSync(dir).filter((f) => pattern.test(f)).sort();
  }

  it('keeps dropped segments as spares, writes new segments over them, and replays exactly the records of this log', async () => {
    let wal = await WalWriter.open(dir, [], 0, fail, { segmentBytesMax: SEGMENT_BYTES });
    await appendAll(wal, 1, 100, 1000); // about five segments
    expect(wal.segments.length).to.be.greaterThan(3);
    const dropped = wal.segments.slice(0, -1);
    const inodes = new Set(dropped.map((s) => statSync(join(dir, s.file)).ino));
    expect(await wal.dropSegmentsBefore(wal.segments.at(-1)!.firstSeq)).to.equal(dropped.length);
    // The oldest become spares, named by the last seq they may hold; the rest are deleted.
    expect(wal.spareCount).to.equal(WAL_SPARE_SEGMENTS_MAX);
    expect(names(/^wal-spare-/)).to.deep.equal([spareFileName(dropped[1]!.firstSeq - 1), spareFileName(dropped[2]!.firstSeq - 1)]);

    // Smaller records now: each new segment is a spare's file, its older records still behind.
    await appendAll(wal, 101, 200, 300);
    expect(wal.spareCount).to.equal(0);
    const reused = wal.segments.filter((s) => inodes.has(statSync(join(dir, s.file)).ino));
    expect(reused.length, 'segments written over spares').to.equal(WAL_SPARE_SEGMENTS_MAX);
    await wal.close();

    const { seqs, values, lastSeq } = await replay();
    const firstKept = Number(names(/^wal-\d+\.log$/)[0]!.slice(4, 24));
    expect(seqs).to.deep.equal(Array.from({ length: 200 - firstKept + 1 }, (_v, i) => firstKept + i));
    expect(lastSeq).to.equal(200);
    for (const seq of seqs) expect(values.get(seq)!.equals(Buffer.alloc(seq <= 100 ? 1000 : 300, seq % 251)), `value of seq ${seq}`).to.equal(true);

    // Appending after recovery goes on from the last record.
    const segments = (await recoverWal(dir, PAYLOAD_MAX, log, async () => undefined)).segments;
    wal = await WalWriter.open(dir, segments, 200, fail, { segmentBytesMax: SEGMENT_BYTES });
    await appendAll(wal, 201, 210, 300);
    await wal.close();
    expect((await replay()).lastSeq).to.equal(210);
  });

  it('a crash right after a spare became the new segment replays none of its old records', async () => {
    const wal = await WalWriter.open(dir, [], 0, fail, { segmentBytesMax: SEGMENT_BYTES });
    await appendAll(wal, 1, 40, 1000); // two full segments, then an empty third
    const third = wal.segments.at(-1)!.firstSeq;
    await wal.dropSegmentsBefore(third);
    const spare = names(/^wal-spare-/)[0]!;
    const spareInode = statSync(join(dir, spare)).ino;
    // Filling the third segment starts a fourth over the oldest spare; the crash comes before
    // any record reaches it: it holds the magic, then the spare's old records.
    await appendAll(wal, third, third + 19, 1000);
    const fourth = wal.segments.at(-1)!;
    expect(fourth.firstSeq).to.equal(third + 20);
    expect(statSync(join(dir, fourth.file)).ino, 'the fourth segment is the spare written over').to.equal(spareInode);
    await wal.close();
    expect(statSync(join(dir, fourth.file)).size).to.be.greaterThan(WAL_MAGIC.length + 10_000);

    const { seqs, lastSeq } = await replay();
    expect(lastSeq).to.equal(third + 19);
    expect(seqs).to.deep.equal(Array.from({ length: 20 }, (_v, i) => third + i));
    // The stale records are gone from the file: later records go right after the magic.
    expect(statSync(join(dir, fourth.file)).size).to.equal(WAL_MAGIC.length);
  });

  it('does not reuse a spare that may hold seqs of the new segment or later (a log restarted lower)', async () => {
    // A spare from a longer history: records up to seq 500.
    const other = await WalWriter.open(dir, [], 400, fail);
    await appendAll(other, 401, 500, 100);
    await other.close();
    const file = segmentFileName(401);
    writeFileSync(join(dir, spareFileName(500)), readFileSync(join(dir, file)));
    rmSync(join(dir, file));

    // The log now starts at seq 301 (as after a snapshot at seq 300).
    const wal = await WalWriter.open(dir, [], 300, fail);
    expect(wal.spareCount).to.equal(0);
    expect(names(/^wal-spare-/)).to.deep.equal([]);
    await appendAll(wal, 301, 310, 100);
    await wal.close();
    const { seqs } = await replay();
    expect(seqs).to.deep.equal(Array.from({ length: 10 }, (_v, i) => 301 + i));
  });

  it('small writes go over zeros laid down ahead of them; recovery ends the log at the last record', async () => {
    const wal = await WalWriter.open(dir, [], 0, fail);
    await appendAll(wal, 1, 20, 50);
    const segment = wal.segments.at(-1)!;
    expect(statSync(join(dir, segment.file)).size, 'file holds zeros past its records').to.equal(WAL_MAGIC.length + WAL_PREALLOCATE_BYTES);
    expect(segment.bytes).to.be.lessThan(WAL_PREALLOCATE_BYTES);
    await wal.close();
    const { seqs } = await replay();
    expect(seqs).to.deep.equal(Array.from({ length: 20 }, (_v, i) => 1 + i));
    expect(statSync(join(dir, segment.file)).size).to.equal(segment.bytes);
  });
});
