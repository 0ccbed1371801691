import { expect } from 'chai';
import { cleanup, clientFor, makeCluster, startNode, track, type TestCluster } from '../kvserver/node-process.js';

const CLIENTS = 20;

describe('CPUT races between many concurrent clients', function () {
  let cluster: TestCluster;

  beforeEach(async () => {
    cluster = track(await makeCluster());
    await startNode(cluster, 0);
  });
  afterEach(cleanup);

  it('create-if-absent: exactly one winner per cell, and the cell holds the winner\'s value', async () => {
    const clients = Array.from({ length: CLIENTS }, () => clientFor(cluster, { connectionsPerNode: 1 }));
    for (let cell = 0; cell < 10; cell++) {
      const results = await Promise.all(clients.map((kv, i) => kv.cput('race', `cell${cell}`, null, `client-${i}`)));
      const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
      expect(winners, `cell ${cell}`).to.have.length(1);
      const stored = (await clients[0]!.get('race', `cell${cell}`))!.toString();
      expect(stored).to.equal(`client-${winners[0]}`);
      for (const r of results) if (!r.ok) expect(r.current!.toString()).to.equal(stored);
    }
  });

  it('compare-and-swap counters lose no increment', async () => {
    const clients = Array.from({ length: CLIENTS }, () => clientFor(cluster, { connectionsPerNode: 1 }));
    const INCREMENTS = 10;
    await clients[0]!.put('counter', 'n', '0');
    const increment = async (kv: (typeof clients)[number]): Promise<number> => {
      let conflicts = 0;
      for (;;) {
        const current = await kv.get('counter', 'n');
        const next = String(Number(current!.toString()) + 1);
        const r = await kv.cput('counter', 'n', current, next);
        if (r.ok) return conflicts;
        conflicts++;
      }
    };
    await Promise.all(clients.map(async (kv) => {
      for (let i = 0; i < INCREMENTS; i++) await increment(kv);
    }));
    expect((await clients[0]!.get('counter', 'n'))!.toString()).to.equal(String(CLIENTS * INCREMENTS));
  });
});
