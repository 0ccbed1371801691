import { expect } from 'chai';
import {
  CHECKPOINT_VALUE_REF_BYTES_MIN, CheckpointCorruptError, decodeCheckpoint, encodeCheckpoint, encodeCheckpointParts,
} from '../../lib/kvserver/checkpoint-codec.js';
import { Tablet } from '../../lib/kvserver/tablet.js';
import { seededRandom } from '../support/seeded-random.js';

function cellsOf(tablet: Tablet): [string, string, string][] {
  return [...tablet.cells()].map(([row, column, value]) => [row, column, value.toString('hex')]);
}

describe('kvserver: the checkpoint file', () => {
  it('round-trips tablets of short, long and empty values, with and without an end', () => {
    const random = seededRandom(7);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const sizes = [0, 1, 100, CHECKPOINT_VALUE_REF_BYTES_MIN - 1, CHECKPOINT_VALUE_REF_BYTES_MIN, 70_000, 1024 * 1024];
    for (const end of ['q', null]) {
      const tablet = new Tablet('b', end);
      for (let i = 0; i < 60; i++) tablet.put(`b-row-${i % 13}`, `col-é-${i}`, bytes(sizes[i % sizes.length]!));
      const { header, tablet: back } = decodeCheckpoint(encodeCheckpoint(tablet, 1234));
      expect(header).to.include({ seq: 1234, start: 'b', end, bytes: tablet.bytes, cellCount: 60 });
      expect(cellsOf(back)).to.deep.equal(cellsOf(tablet));
    }
  });

  it('references long values instead of copying them, and stays a snapshot when the tablet moves on', () => {
    const tablet = new Tablet('', null);
    const big = Buffer.alloc(256 * 1024, 1);
    tablet.put('a', 'big', big);
    tablet.put('a', 'small', Buffer.from('before'));
    const parts = encodeCheckpointParts(tablet, 9);
    expect(parts.some((p) => p === big), 'the long value is written as it is held').to.equal(true);
    // Writes after the snapshot replace values; the parts still hold the cut at seq 9.
    tablet.put('a', 'big', Buffer.alloc(10, 2));
    tablet.put('a', 'small', Buffer.from('after'));
    tablet.put('b', 'new', Buffer.from('x'));
    const { header, tablet: back } = decodeCheckpoint(Buffer.concat(parts));
    expect(header.cellCount).to.equal(2);
    expect((back.get('a', 'big') as Buffer).equals(big)).to.equal(true);
    expect(back.get('a', 'small')!.toString()).to.equal('before');
  });

  it('refuses a file with any byte flipped', () => {
    const tablet = new Tablet('', null);
    tablet.put('r', 'c', Buffer.alloc(CHECKPOINT_VALUE_REF_BYTES_MIN * 2, 3));
    const bytes = encodeCheckpoint(tablet, 1);
    for (const at of [0, 12, 30, bytes.length - 100, bytes.length - 1]) {
      const bad = Buffer.from(bytes);
      bad[at]! ^= 0x40;
      expect(() => decodeCheckpoint(bad), `byte ${at}`).to.throw(CheckpointCorruptError);
    }
  });
});
