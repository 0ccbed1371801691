import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, setLogLevel } from '../../lib/protocol/log.js';
import { LOG_READ_CHUNK_BYTES, readLogAfter, recoverWal } from '../../lib/kvserver/wal-reader.js';
import type { WalRecord } from '../../lib/kvserver/wal-record.js';
import { WAL_MARK_INTERVAL_BYTES, type WalSegment } from '../../lib/kvserver/wal-segments.js';
import { WalWriter } from '../../lib/kvserver/wal-writer.js';

const PAYLOAD_MAX = 2 * 1024 * 1024;
/** Segments of a few MiB: several of them, each with many marks. */
const SEGMENT_BYTES = 3 * 1024 * 1024;
/** Every 97th record is longer than a read chunk. */
const LONG_BYTES = LOG_READ_CHUNK_BYTES + 100_000;
const RECORDS = 1200;

function record(seq: number): WalRecord {
  const valueBytes = seq % 97 === 0 ? LONG_BYTES : 50 + (seq * 7919) % 9000;
  return { seq, view: 1 + (seq >> 9), op: 'PUT', row: `row-${seq}`, column: 'v', value: Buffer.alloc(valueBytes, seq % 251), clientId: '00000000000000aa', requestId: seq };
}

function fail(err: Error): void {
  throw err;
}

/** What a page should hold: the records after `after`, at most `max`, up to `durable`. */
function expected(after: number, max: number, durable: number): number[] {
  const seqs: number[] = [];
  for (let seq = after + 1; seq <= durable && seqs.length < max; seq++) seqs.push(seq);
  return seqs;
}

describe('kvserver: reading the log after a seq starts at a mark near it (real files)', function () {
  let dir: string;

  before(() => setLogLevel('silent'));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'penncloud-wal-read-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function check(segments: readonly WalSegment[], durable: number, what: string): Promise<void> {
    for (const after of [0, 1, 2, 95, 96, 97, 300, 511, 512, 777, 1000, RECORDS - 3, RECORDS - 1, RECORDS]) {
      for (const max of [1, 7, 256]) {
        const page = await readLogAfter(dir, segments, after, durable, PAYLOAD_MAX, max);
        const want = expected(after, max, durable);
        expect(page!.records.map((r) => r.seq), `${what}: after ${after}, at most ${max}`).to.deep.equal(want);
        expect(page!.more, `${what}: more after ${after}, at most ${max}`).to.equal(want.length === max && want.at(-1)! < durable);
        // (more: another durable record follows the page)
        for (const r of page!.records) {
          const w = record(r.seq) as Extract<WalRecord, { op: 'PUT' }>;
          expect(r.op === 'PUT' && r.value.equals(w.value) && r.view === w.view && r.row === w.row, `${what}: record ${r.seq}`).to.equal(true);
        }
      }
    }
  }

  it('returns exactly the records after any seq, across segments and records longer than a read, as written and after recovery', async () => {
    const wal = await WalWriter.open(dir, [], 0, fail, { segmentBytesMax: SEGMENT_BYTES });
    for (let seq = 1; seq <= RECORDS; seq++) {
      wal.append(record(seq));
      if (seq % 10 === 0) await wal.waitDurable(seq);
    }
    await wal.waitDurable(RECORDS);
    await wal.settled();
    expect(wal.segments.length, 'segments').to.be.greaterThan(3);
    for (const s of wal.segments.slice(0, -1)) {
      const marks = s.marks!;
      expect(marks.length, `marks of ${s.file}`).to.be.greaterThan(3);
      expect(marks[0]!.seq, `first mark of ${s.file}`).to.equal(s.firstSeq);
      for (let i = 1; i < marks.length; i++) {
        expect(marks[i]!.position - marks[i - 1]!.position).to.be.at.least(WAL_MARK_INTERVAL_BYTES);
        expect(marks[i]!.seq).to.be.greaterThan(marks[i - 1]!.seq);
      }
    }
    await check(wal.segments, RECORDS, 'as written');
    // Only what is durable is read.
    await check(wal.segments, 700, 'durable up to 700');
    await wal.close();

    const recovered = await recoverWal(dir, PAYLOAD_MAX, createLogger('test'), async () => undefined);
    expect(recovered.segments.map((s) => s.marks)).to.deep.equal(wal.segments.map((s) => s.marks));
    await check(recovered.segments, RECORDS, 'after recovery');
    // A segment recovery did not read has no marks: it is read from its start.
    await check(recovered.segments.map((s) => ({ ...s, marks: undefined })), RECORDS, 'without marks');
  });
});
