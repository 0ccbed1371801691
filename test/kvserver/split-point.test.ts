import { expect } from 'chai';
import { decodeCheckpoint, encodeCheckpoint, CheckpointCorruptError } from '../../lib/kvserver/checkpoint-codec.js';
import { chooseSplitRow } from '../../lib/kvserver/split-point.js';
import { Tablet } from '../../lib/kvserver/tablet.js';

describe('split point', () => {
  const table: [string, [string, number][], string | null][] = [
    ['no rows', [], null],
    ['one row cannot split', [['a', 100]], null],
    ['two equal rows', [['a', 10], ['b', 10]], 'b'],
    ['even weights split by count', [['a', 1], ['b', 1], ['c', 1], ['d', 1]], 'c'],
    ['a heavy last row', [['a', 1], ['b', 1], ['c', 1], ['d', 100]], 'd'],
    ['a heavy first row', [['a', 100], ['b', 1], ['c', 1], ['d', 1]], 'b'],
    ['many small, few big: bytes not keys', [
      ...Array.from({ length: 1000 }, (_v, i): [string, number] => [`a${String(i).padStart(4, '0')}`, 100]),
      ['x1', 60_000], ['x2', 60_000], ['x3', 60_000],
    ], 'x2'],
    ['ties go to the earliest boundary', [['a', 5], ['b', 5], ['c', 5]], 'b'],
  ];
  for (const [name, rows, expected] of table) {
    it(name, () => {
      expect(chooseSplitRow(rows.map(([row, bytes]) => ({ row, bytes })))).to.equal(expected);
    });
  }
});

describe('tablet accounting and checkpoint codec', () => {
  it('keeps bytes exact through puts, overwrites, deletes and a split', () => {
    const t = new Tablet('', null);
    t.put('r1', 'c1', Buffer.alloc(10));
    const one = t.bytes;
    t.put('r1', 'c1', Buffer.alloc(30));
    expect(t.bytes).to.equal(one + 20);
    t.put('r2', 'c', Buffer.alloc(5));
    t.delete('r1', 'c1');
    t.delete('r2', 'c');
    expect(t.bytes).to.equal(0);
    for (let i = 0; i < 10; i++) t.put(`k${i}`, 'c', Buffer.alloc(i * 10));
    const total = t.bytes;
    const right = t.splitAt('k5');
    expect(t.bytes + right.bytes).to.equal(total);
    expect(t.end).to.equal('k5');
    expect(right.start).to.equal('k5');
    expect(t.get('k6', 'c')).to.equal(undefined);
    expect(right.get('k6', 'c')!.length).to.equal(60);
  });

  it('round-trips a tablet and detects any changed byte', () => {
    const t = new Tablet('b', 'q');
    t.put('b1', 'x', Buffer.from([0, 1, 2, 255]));
    t.put('c', '☃', Buffer.alloc(0));
    t.put('c', 'y', Buffer.from('hello'));
    const bytes = encodeCheckpoint(t, 42);
    const { header, tablet } = decodeCheckpoint(bytes);
    expect(header).to.include({ seq: 42, start: 'b', end: 'q', bytes: t.bytes, cellCount: 3 });
    expect([...tablet.cells()]).to.deep.equal([...t.cells()]);
    for (let i = 0; i < bytes.length; i += 7) {
      const spoiled = Buffer.from(bytes);
      spoiled[i] ^= 0x01;
      expect(() => decodeCheckpoint(spoiled), `byte ${i}`).to.throw(CheckpointCorruptError);
    }
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 3))).to.throw(CheckpointCorruptError);
  });
});
