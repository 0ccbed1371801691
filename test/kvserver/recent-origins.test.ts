import { expect } from 'chai';
import { RecentOrigins } from '../../lib/kvserver/recent-origins.js';
import type { WalRecord } from '../../lib/kvserver/wal-record.js';

function applied(clientId: string, requestId: number, seq: number): WalRecord {
  return { seq, view: 1, op: 'DELETE', row: 'r', column: 'c', clientId, requestId };
}

const A = '00000000000000aa';
const B = '00000000000000bb';

describe('kvserver: the recent origins table', () => {
  it('answers a retried request with the seq of its first application', () => {
    const origins = new RecentOrigins(10);
    origins.remember(applied(A, 1, 5));
    origins.remember(applied(B, 1, 6));
    expect(origins.seqOf({ clientId: A, requestId: 1 })).to.equal(5);
    expect(origins.seqOf({ clientId: B, requestId: 1 })).to.equal(6);
    expect(origins.seqOf({ clientId: A, requestId: 2 })).to.equal(undefined);
  });

  it('never remembers requests without an origin', () => {
    const origins = new RecentOrigins(10);
    origins.remember(applied('0000000000000000', 1, 1));
    expect(origins.size).to.equal(0);
    expect(origins.seqOf({ clientId: '0000000000000000', requestId: 1 })).to.equal(undefined);
  });

  it('forgets the oldest origin first once full, and stays at its bound', () => {
    const origins = new RecentOrigins(100);
    for (let i = 1; i <= 250; i++) origins.remember(applied(A, i, i));
    expect(origins.size).to.equal(100);
    expect(origins.seqOf({ clientId: A, requestId: 150 })).to.equal(undefined);
    expect(origins.seqOf({ clientId: A, requestId: 151 })).to.equal(151);
    expect(origins.seqOf({ clientId: A, requestId: 250 })).to.equal(250);
    const listed = [...origins.entries()];
    expect(listed.map((e) => e.requestId)).to.deep.equal(Array.from({ length: 100 }, (_, i) => 151 + i));
    expect(listed[0]).to.deep.equal({ clientId: A, requestId: 151, seq: 151 });
  });

  it('keeps an origin remembered again by its newer seq and age', () => {
    const origins = new RecentOrigins(3);
    origins.remember(applied(A, 1, 1));
    origins.remember(applied(A, 2, 2));
    origins.remember(applied(A, 1, 3)); // remembered again (a replay): now the newest
    origins.remember(applied(A, 4, 4)); // the ring is full: its oldest slot goes, which A:1 left
    expect(origins.seqOf({ clientId: A, requestId: 1 })).to.equal(3);
    expect(origins.seqOf({ clientId: A, requestId: 2 })).to.equal(2);
    origins.remember(applied(A, 5, 5));
    expect(origins.seqOf({ clientId: A, requestId: 2 }), 'the oldest is forgotten').to.equal(undefined);
    expect([...origins.entries()].map((e) => [e.requestId, e.seq])).to.deep.equal([[1, 3], [4, 4], [5, 5]]);
  });
});
