import { expect } from 'chai';
import { isPennError } from '../../lib/protocol/errors.js';
import { cleanup, clientFor, makeCluster, startNode, track, type TestCluster } from '../kvserver/node-process.js';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('kv client and node: every operation', function () {
  let cluster: TestCluster;

  beforeEach(async () => {
    cluster = track(await makeCluster({ nodeCount: 2, tabletStarts: ['', 'm'], kv: { valueBytesMax: 256 * 1024 } }));
    await Promise.all([startNode(cluster, 0), startNode(cluster, 1)]);
  });
  afterEach(cleanup);

  it('puts, gets, overwrites and deletes cells on both tablets', async () => {
    const kv = clientFor(cluster);
    for (const row of ['apple', 'zebra']) {
      expect(await kv.get(row, 'c')).to.equal(null);
      await kv.put(row, 'c', 'one');
      expect((await kv.get(row, 'c'))!.toString()).to.equal('one');
      await kv.put(row, 'c', Buffer.from('two'));
      expect((await kv.get(row, 'c'))!.toString()).to.equal('two');
      expect(await kv.delete(row, 'c')).to.equal(true);
      expect(await kv.delete(row, 'c')).to.equal(false);
      expect(await kv.get(row, 'c')).to.equal(null);
    }
  });

  it('compares and puts: create-if-absent, match, mismatch with the current value', async () => {
    const kv = clientFor(cluster);
    expect(await kv.cput('r', 'c', null, 'first')).to.deep.equal({ ok: true });
    const again = await kv.cput('r', 'c', null, 'second');
    expect(again.ok).to.equal(false);
    expect(!again.ok && again.current!.toString()).to.equal('first');
    const wrong = await kv.cput('r', 'c', 'nope', 'second');
    expect(!wrong.ok && wrong.current!.toString()).to.equal('first');
    expect(await kv.cput('r', 'c', 'first', 'second')).to.deep.equal({ ok: true });
    expect((await kv.get('r', 'c'))!.toString()).to.equal('second');
    const absent = await kv.cput('r', 'missing', 'x', 'y');
    expect(absent).to.deep.equal({ ok: false, current: null });
    expect(await kv.get('r', 'missing')).to.equal(null);
  });

  it('stores binary values byte for byte, the empty value included', async () => {
    const kv = clientFor(cluster);
    const all = Buffer.from(Array.from({ length: 256 * 4 }, (_v, i) => i % 256));
    await kv.put('bin', 'all', all);
    await kv.put('bin', 'empty', Buffer.alloc(0));
    await kv.put('bin', 'nul', Buffer.from([0, 0, 0]));
    expect((await kv.get('bin', 'all'))!.equals(all)).to.equal(true);
    expect((await kv.get('bin', 'empty'))!.length).to.equal(0);
    expect((await kv.get('bin', 'nul'))!.equals(Buffer.from([0, 0, 0]))).to.equal(true);
    expect(await kv.cput('bin', 'all', all, Buffer.from([255]))).to.deep.equal({ ok: true });
  });

  it('accepts a value of exactly valueBytesMax and refuses one byte more, storing nothing', async () => {
    const max = cluster.kv.valueBytesMax;
    const kv = clientFor(cluster);
    const big = Buffer.alloc(max, 0xab);
    await kv.put('size', 'max', big);
    expect((await kv.get('size', 'max'))!.equals(big)).to.equal(true);
    const clientSide = await rejection(kv.put('size', 'over', Buffer.alloc(max + 1)));
    expect(isPennError(clientSide, 'TOO_LARGE')).to.equal(true);
    // A client configured with a larger limit reaches the node, which refuses it itself.
    const loose = clientFor(cluster, { valueBytesMax: max * 4 });
    const nodeSide = await rejection(loose.put('size', 'over', Buffer.alloc(max + 1)));
    expect(isPennError(nodeSide, 'TOO_LARGE'), String(nodeSide)).to.equal(true);
    expect((nodeSide as Error).message).to.match(/exceeds the limit/);
    const cputSide = await rejection(loose.cput('size', 'max', big, Buffer.alloc(max + 1)));
    expect(isPennError(cputSide, 'TOO_LARGE')).to.equal(true);
    // A frame far past the limit: refused, and that connection closed; the data is untouched.
    const huge = await rejection(loose.put('size', 'max', Buffer.alloc(max * 3)));
    expect(isPennError(huge, 'TOO_LARGE'), String(huge)).to.equal(true);
    expect(await kv.get('size', 'over')).to.equal(null);
    expect((await kv.get('size', 'max'))!.equals(big)).to.equal(true);
  });

  it('lists rows of a tablet and columns of a row in key order, paged', async () => {
    const kv = clientFor(cluster);
    const rows = ['a3', 'a1', 'b', 'a2', 'l9'];
    for (const r of rows) await kv.put(r, 'c', r);
    await kv.put('zz', 'c', 'other tablet');
    for (const c of ['c3', 'c1', 'c2']) await kv.put('a1', c, Buffer.alloc(c === 'c2' ? 7 : 1));
    const first = await kv.listRows('', { limit: 3 });
    expect(first).to.deep.equal({ rows: ['a1', 'a2', 'a3'], end: 'm', more: true });
    const second = await kv.listRows('', { after: 'a3', limit: 3 });
    expect(second).to.deep.equal({ rows: ['b', 'l9'], end: 'm', more: false });
    expect((await kv.listRows('m')).rows).to.deep.equal(['zz']);
    const cols = await kv.listColumns('a1', { limit: 2 });
    expect(cols).to.deep.equal({ columns: [{ column: 'c', valueBytes: 2 }, { column: 'c1', valueBytes: 1 }], more: true });
    const rest = await kv.listColumns('a1', { after: 'c1' });
    expect(rest).to.deep.equal({ columns: [{ column: 'c2', valueBytes: 7 }, { column: 'c3', valueBytes: 1 }], more: false });
    expect(await kv.listColumns('nothing')).to.deep.equal({ columns: [], more: false });
  });

  it('answers wrong tablet for a row the node does not serve, and routes it right otherwise', async () => {
    const pinned = clientFor(cluster, { pinnedNode: { host: '127.0.0.1', port: cluster.kv.nodes[0]!.port } });
    const err = await rejection(pinned.put('zebra', 'c', 'x'));
    expect(isPennError(err, 'UNAVAILABLE') && err.reason).to.equal('WRONG_TABLET');
    const listErr = await rejection(pinned.listRows('m'));
    expect(isPennError(listErr) && listErr.reason).to.equal('WRONG_TABLET');
    const routed = clientFor(cluster);
    await routed.put('zebra', 'c', 'x');
    expect((await routed.get('zebra', 'c'))!.toString()).to.equal('x');
  });

  it('refuses bad keys with BAD_REQUEST and reports node status', async () => {
    const kv = clientFor(cluster);
    expect(isPennError(await rejection(kv.get('x'.repeat(5000), 'c')), 'BAD_REQUEST')).to.equal(true);
    expect(isPennError(await rejection(kv.put('r', '\uD800', 'v')), 'BAD_REQUEST')).to.equal(true);
    await kv.put('d', 'c', Buffer.alloc(1000));
    const status = await kv.status({ host: '127.0.0.1', port: cluster.kv.nodes[0]!.port });
    expect(status.nodeId).to.equal(0);
    expect(status.tablets.map((t) => [t.start, t.end])).to.deep.equal([['', 'm']]);
    expect(status.memoryBytes).to.be.at.least(1000 + 1 + 1 + status.accounting.cellOverheadBytes + status.accounting.rowOverheadBytes);
    expect(status.log.durableSeq).to.equal(status.log.lastSeq);
    expect(status.log.lastSeq).to.be.at.least(1);
  });
});
