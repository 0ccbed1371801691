import { expect } from 'chai';
import { TabletRouter, type KvClusterMap } from '../../lib/kvclient/tablet-router.js';
import { toClusterMap } from '../../lib/kvclient/coordinator-map-source.js';

const nodes = [0, 1, 2, 3, 4, 5].map((id) => ({ id, host: '127.0.0.1', port: 7000 + id }));
const base: KvClusterMap = {
  nodes, groups: [[0, 1, 2], [3, 4, 5]], tablets: [{ start: '', group: 0 }, { start: 'm', group: 1 }],
};

function ports(targets: { port: number }[]): number[] {
  return targets.map((t) => t.port);
}

describe('kvclient: tablet routing', () => {
  it('sends requests to the primary of the group holding the row, or its first node while unknown', () => {
    const router = new TabletRouter({ ...base, primaries: [2, null] }, () => Promise.resolve(base));
    expect(router.nodeFor('apple').port).to.equal(7002);
    expect(router.nodeFor('zebra').port).to.equal(7003);
  });

  it('spreads reads from any replica over the primary and secondaries of the view, in turn', () => {
    const router = new TabletRouter({ ...base, primaries: [1, 4], secondaries: [[0, 2], [5]] }, () => Promise.resolve(base));
    const first = ports(Array.from({ length: 6 }, () => router.readerFor('apple')));
    expect([...new Set(first)].sort()).to.deep.equal([7000, 7001, 7002]);
    expect(first.filter((p) => p === 7001)).to.have.length(2);
    const second = ports(Array.from({ length: 4 }, () => router.readerFor('zebra')));
    expect([...new Set(second)].sort()).to.deep.equal([7004, 7005]);
    expect(router.nodeFor('apple').port, 'other requests still go to the primary').to.equal(7001);
  });

  it('reads from the primary while the views are unknown', () => {
    const router = new TabletRouter({ ...base, primaries: [1, 4] }, () => Promise.resolve(base));
    expect(ports([router.readerFor('apple'), router.readerFor('apple')])).to.deep.equal([7001, 7001]);
  });

  it('takes the views from the coordinator\'s map', () => {
    const map = toClusterMap({
      nodes: nodes.map((n) => ({ ...n, group: n.id < 3 ? 0 : 1 })),
      tablets: [{ start: '', group: 0 }, { start: 'm', group: 1 }],
      views: [{ group: 0, view: 7, primary: 2, secondaries: [0] }, { group: 1, view: 3, primary: null, secondaries: [] }],
    });
    expect(map.primaries).to.deep.equal([2, null]);
    expect(map.secondaries).to.deep.equal([[0], []]);
    const router = new TabletRouter(map, () => Promise.resolve(map));
    expect([...new Set(ports(Array.from({ length: 4 }, () => router.readerFor('apple'))))].sort()).to.deep.equal([7000, 7002]);
    expect(() => router.readerFor('zebra')).to.not.throw(); // no primary known: its first node
    expect(router.readerFor('zebra').port).to.equal(7003);
  });
});
