import { expect } from 'chai';
import { decodeWalRecords, encodeWalRecord, type WalRecord } from '../../lib/kvserver/wal-record.js';

const RECORDS: WalRecord[] = [
  { seq: 1, op: 'PUT', row: 'row', column: 'col', value: Buffer.from('value'), clientId: '0011223344556677', requestId: 9 },
  { seq: 2, op: 'DELETE', row: 'row', column: 'col', clientId: '0000000000000000', requestId: 0 },
  { seq: 3, op: 'PUT', row: '', column: '☃', value: Buffer.alloc(0), clientId: 'ffffffffffffffff', requestId: 0xffffffff },
  { seq: 2 ** 40, op: 'PUT', row: 'big', column: 'c', value: Buffer.alloc(70_000, 7), clientId: '0102030405060708', requestId: 1 },
];

const PAYLOAD_MAX = 1024 * 1024;

describe('WAL record codec', () => {
  const bytes = Buffer.concat(RECORDS.flatMap((r) => encodeWalRecord(r)));

  it('round-trips records of every kind', () => {
    const result = decodeWalRecords(bytes, 0, PAYLOAD_MAX);
    expect(result.stop).to.equal('end');
    expect(result.goodBytes).to.equal(bytes.length);
    expect(result.records).to.deep.equal(RECORDS);
  });

  it('keeps every whole record before a tail cut at any byte, and calls the rest torn', () => {
    const ends: number[] = [];
    let pos = 0;
    for (const r of RECORDS) {
      pos += Buffer.concat(encodeWalRecord(r)).length;
      ends.push(pos);
    }
    for (let cut = 0; cut < ends.at(-2)! + 40; cut++) {
      const result = decodeWalRecords(bytes.subarray(0, cut), 0, PAYLOAD_MAX);
      const whole = ends.filter((e) => e <= cut).length;
      expect(result.records.length, `cut at ${cut}`).to.equal(whole);
      expect(result.goodBytes, `cut at ${cut}`).to.equal(whole === 0 ? 0 : ends[whole - 1]);
      expect(result.stop, `cut at ${cut}`).to.equal(ends.includes(cut) || cut === 0 ? 'end' : 'torn');
    }
  });

  it('stops at a record whose bytes were changed (checksum) and at an impossible length', () => {
    const firstEnd = Buffer.concat(encodeWalRecord(RECORDS[0]!)).length;
    for (const offset of [firstEnd + 4, firstEnd + 8, firstEnd + 20, firstEnd + 30]) {
      const spoiled = Buffer.from(bytes);
      spoiled[offset] ^= 0x40;
      const result = decodeWalRecords(spoiled, 0, PAYLOAD_MAX);
      expect(result.stop, `byte ${offset}`).to.equal('corrupt');
      expect(result.records, `byte ${offset}`).to.deep.equal([RECORDS[0]]);
    }
    const huge = Buffer.from(bytes);
    huge.writeUInt32BE(0x7fffffff, firstEnd);
    expect(decodeWalRecords(huge, 0, PAYLOAD_MAX).stop).to.equal('corrupt');
  });
});
