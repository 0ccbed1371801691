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

  it('agrees with a plain model over a long random run: many clients, replays, wraps of the ring', () => {
    // A small table, so that probe runs are long and deletions move entries back often.
    for (const capacity of [1, 7, 64, 1000]) {
      const origins = new RecentOrigins(capacity);
      // The model: the ring as a list of [client, request id, seq] (null: an emptied slot).
      const ring: ([string, number, number] | null)[] = [];
      let random = 12345 + capacity;
      const next = (n: number): number => {
        random = (Math.imul(random, 1103515245) + 12345) >>> 0;
        return random % n;
      };
      const clients = Array.from({ length: 9 }, (_v, i) => (i === 8 ? '0000000000000000' : `00000000000000${(0xa0 + i).toString(16)}`));
      let seq = 0;
      for (let step = 0; step < 20_000; step++) {
        const client = clients[next(clients.length)]!;
        // Request ids from a narrow range repeat (replays), and the full u32 range is used too.
        const requestId = next(4) === 0 ? next(2 ** 32) : next(3 * capacity + 5);
        seq++;
        origins.remember(applied(client, requestId, seq));
        if (client === '0000000000000000') continue;
        if (ring.length === capacity) ring.shift();
        const again = ring.findIndex((e) => e !== null && e[0] === client && e[1] === requestId);
        if (again >= 0) ring[again] = null;
        ring.push([client, requestId, seq]);
        if (step % 97 === 0 || step > 19_900) {
          const live = ring.filter((e) => e !== null);
          expect(origins.size, `capacity ${capacity}, step ${step}`).to.equal(live.length);
          expect([...origins.entries()].map((e) => [e.clientId, e.requestId, e.seq]), `capacity ${capacity}, step ${step}`).to.deep.equal(live);
          for (const [c, r, s] of live) expect(origins.seqOf({ clientId: c, requestId: r })).to.equal(s);
          expect(origins.seqOf({ clientId: clients[next(8)]!, requestId: 3 * capacity + 7 }), 'never remembered').to.equal(undefined);
        }
      }
    }
  });
});
