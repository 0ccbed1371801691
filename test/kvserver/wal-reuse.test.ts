import { expect } from 'chai';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLogLevel, createLogger } from '../../lib/protocol/log.js';
import { recoverWal } from '../../lib/kvserver/wal-reader.js';
import { encodeWalRecord, type WalRecord } from '../../lib/kvserver/wal-record.js';
import { WAL_MAGIC, segmentFileName, spareFileName } from '../../lib/kvserver/wal-segments.js';
import { WAL_PREALLOCATE_BYTES, WAL_SPARE_SEGMENTS_MAX, WAL_WRITES_IN_FLIGHT_MAX, WalWriter } from '../../lib/kvserver/wal-writer.js';
import { LoggedValue, ValueLog } from '../../lib/kvserver/logged-value.js';

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

  it('a secondary\'s small batches are written on its own thread: durable within the turn that writes them, replayed exactly', async () => {
    const wal = await WalWriter.open(dir, [], 0, fail);
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    // On an I/O thread, the write's completion comes in a later turn of the event loop. (This
    // first write also lays the zeros the next ones go over.)
    wal.append(record(1, 100));
    await turn();
    expect(wal.durableSeq, 'written by an I/O thread').to.equal(0);
    await wal.waitDurable(1);
    wal.smallWritesInline = true;
    let seq = 1;
    const batch = (valueBytes: number): void => {
      for (let i = 0; i < 5; i++) wal.append(record(++seq, valueBytes));
    };
    for (const valueBytes of [100, 3000, 50, 9000, 10, 2000, 4000]) {
      batch(valueBytes);
      await turn();
      expect(wal.durableSeq, `a batch of five ${valueBytes}-byte values`).to.equal(seq);
    }
    // A batch past 64 KiB (file chunks) still goes to an I/O thread.
    batch(100_000);
    await turn();
    expect(wal.durableSeq, 'a large batch').to.be.lessThan(seq);
    await wal.waitDurable(seq);
    batch(200);
    await turn();
    expect(wal.durableSeq, 'small again').to.equal(seq);
    await wal.close();
    const { seqs, values } = await replay();
    expect(seqs).to.deep.equal(Array.from({ length: seq }, (_v, i) => 1 + i));
    for (const s of seqs) {
      const value = values.get(s)!;
      expect(value.equals((record(s, value.length) as { value: Buffer }).value), `seq ${s}`).to.equal(true);
    }
  });

  it('writes large batches two at a time, yet reports records durable in log order, at the places they landed', async () => {
    expect(WAL_WRITES_IN_FLIGHT_MAX).to.equal(2);
    const wal = await WalWriter.open(dir, [], 0, fail, { segmentBytesMax: 4 * 1024 * 1024 });
    const durable: number[] = [];
    const places = new Map<number, LoggedValue>();
    wal.durableListener = (seq) => durable.push(seq);
    wal.valueListener = {
      bytesMin: 1,
      logged: (r, place) => places.set(r.seq, new LoggedValue(place.segment, place.position, place.recordBytes, r.seq, r.op === 'PUT' ? r.value.length : 0)),
    };
    // Records of 200 KiB appended while writes are under way: batches over 64 KiB, started
    // beside the one before them.
    const waits: Promise<void>[] = [];
    for (let seq = 1; seq <= 60; seq++) {
      wal.append(record(seq, 200 * 1024));
      waits.push(wal.waitDurable(seq));
      if (seq % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(waits);
    await wal.settled();
    expect(durable.length, 'group commits').to.be.greaterThan(2);
    expect(durable, 'durable seqs only rise').to.deep.equal([...durable].sort((a, b) => a - b));
    expect(durable.at(-1)).to.equal(60);
    expect(wal.segments.length, 'segments rolled between writes').to.be.greaterThan(1);
    const values = new ValueLog(dir, PAYLOAD_MAX);
    try {
      for (let seq = 1; seq <= 60; seq++) {
        const got = values.read(places.get(seq)!, `row-${seq}`, 'v');
        expect(got.equals(Buffer.alloc(200 * 1024, seq % 251)), `value of seq ${seq} read from where it was reported`).to.equal(true);
      }
    } finally {
      values.closeAll();
    }
    await wal.close();
    const { seqs } = await replay();
    expect(seqs).to.deep.equal(Array.from({ length: 60 }, (_v, i) => i + 1));
  });

  it('recovery ends the log where a later write landed before an earlier one (a hole), and cuts the file there', async () => {
    const wal = await WalWriter.open(dir, [], 0, fail);
    await appendAll(wal, 1, 3, 100 * 1024);
    await wal.close();
    const file = join(dir, segmentFileName(1));
    const end = statSync(file).size;
    // Records 6 and 7 landed past a 1 MiB hole where records 4 and 5 were being written.
    const later = Buffer.concat([6, 7].flatMap((seq) => encodeWalRecord(record(seq, 100 * 1024))));
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, later, 0, later.length, end + 1024 * 1024);
    } finally {
      closeSync(fd);
    }
    const { seqs, lastSeq } = await replay();
    expect(seqs).to.deep.equal([1, 2, 3]);
    expect(lastSeq).to.equal(3);
    expect(statSync(file).size, 'the file is cut after record 3').to.equal(end);
  });
});
