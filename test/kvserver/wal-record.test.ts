import { expect } from 'chai';
import { crc32 } from 'node:zlib';
import { decodeWalRecords, encodeWalRecord, type WalRecord } from '../../lib/kvserver/wal-record.js';

const RECORDS: WalRecord[] = [
  { seq: 1, view: 0, op: 'PUT', row: 'row', column: 'col', value: Buffer.from('value'), clientId: '0011223344556677', requestId: 9 },
  { seq: 2, view: 7, op: 'DELETE', row: 'row', column: 'col', clientId: '0000000000000000', requestId: 0 },
  { seq: 3, view: 0xffffffff, op: 'PUT', row: '', column: '☃', value: Buffer.alloc(0), clientId: 'ffffffffffffffff', requestId: 0xffffffff },
  { seq: 2 ** 40, view: 3, op: 'PUT', row: 'big', column: 'c', value: Buffer.alloc(70_000, 7), clientId: '0102030405060708', requestId: 1 },
  { seq: 2 ** 40 + 1, view: 4, op: 'SPLIT', row: 'split-row', column: '', clientId: '0000000000000000', requestId: 0 },
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

  it('reads format-1 records (written before replication, no view) as view 0', () => {
    // Format 1: u64 seq | u8 type (1 PUT) | client id | request id | row | column | value.
    const payload = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 5, 1]), Buffer.from('0011223344556677', 'hex'), Buffer.from([0, 0, 0, 9]),
      Buffer.from([0, 3]), Buffer.from('row'), Buffer.from([0, 1]), Buffer.from('c'), Buffer.from([0, 0, 0, 2]), Buffer.from('hi'),
    ]);
    const prefix = Buffer.alloc(8);
    prefix.writeUInt32BE(payload.length, 0);
    prefix.writeUInt32BE(crc32(payload), 4);
    const result = decodeWalRecords(Buffer.concat([prefix, payload]), 0, PAYLOAD_MAX);
    expect(result.stop).to.equal('end');
    expect(result.records).to.deep.equal([
      { seq: 5, view: 0, op: 'PUT', row: 'row', column: 'c', value: Buffer.from('hi'), clientId: '0011223344556677', requestId: 9 },
    ]);
  });
});
