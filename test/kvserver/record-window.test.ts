import { expect } from 'chai';
import { RecordWindow } from '../../lib/kvserver/log-shipper.js';
import type { WalRecord } from '../../lib/kvserver/wal-record.js';

function put(seq: number, valueBytes: number): WalRecord {
  return { seq, view: 1, op: 'PUT', row: `r${seq}`, column: 'c', value: Buffer.alloc(valueBytes), clientId: '0000000000000001', requestId: seq };
}

describe('kvserver: the window of recent records a primary resends from', () => {
  it('keeps the newest records up to its capacity, found by seq, across many wraps of its ring', () => {
    const window = new RecordWindow(5);
    for (let seq = 1; seq <= 23; seq++) {
      window.push(put(seq, 10));
      const held = Math.min(seq, 5);
      expect(window.length, `after ${seq}`).to.equal(held);
      expect(window.first!.seq, `after ${seq}`).to.equal(seq - held + 1);
      expect(window.last!.seq, `after ${seq}`).to.equal(seq);
      expect(window.valueBytes, `after ${seq}`).to.equal(10 * held);
      for (let s = seq - held + 1; s <= seq; s++) expect(window.get(s)!.seq, `seq ${s} after ${seq}`).to.equal(s);
      expect(window.get(seq - held), `the one before the oldest, after ${seq}`).to.equal(undefined);
      expect(window.get(seq + 1)).to.equal(undefined);
    }
  });

  it('drops the oldest on demand, counts only PUT values, and empties', () => {
    const window = new RecordWindow(8);
    window.push(put(1, 100));
    window.push({ seq: 2, view: 1, op: 'DELETE', row: 'r', column: 'c', clientId: '0000000000000001', requestId: 2 });
    window.push(put(3, 50));
    expect(window.valueBytes).to.equal(150);
    window.dropOldest();
    expect([window.first!.seq, window.valueBytes]).to.deep.equal([2, 50]);
    window.clear();
    expect([window.length, window.first, window.last, window.valueBytes, window.get(3)]).to.deep.equal([0, undefined, undefined, 0, undefined]);
    window.push(put(40, 1));
    expect([window.first!.seq, window.get(40)!.seq]).to.deep.equal([40, 40]);
  });
});
