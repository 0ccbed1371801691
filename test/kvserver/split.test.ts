import { expect } from 'chai';
import { cleanup, clientFor, makeCluster, startNode, track, valueFor, waitUntil, type TestCluster } from './node-process.js';

const SPLIT_WAIT_MS = 30_000;
const SMALL_ROWS = 1000;
const SMALL_VALUE_BYTES = 200;
const BIG_VALUE_BYTES = 300 * 1024;

describe('tablet splits by bytes', function () {
  let cluster: TestCluster;

  beforeEach(async () => {
    cluster = track(await makeCluster({ kv: { tabletSplitBytes: 1024 * 1024, valueBytesMax: 512 * 1024 } }));
  });
  afterEach(cleanup);

  it('a tablet of many small rows and a few big ones splits where half its bytes lie, and stays split', async () => {
    let node = await startNode(cluster, 0);
    let kv = clientFor(cluster);
    const small = Array.from({ length: SMALL_ROWS }, (_v, i) => `a${String(i).padStart(4, '0')}`);
    for (let i = 0; i < small.length; i += 100) {
      await Promise.all(small.slice(i, i + 100).map((r) => kv.put(r, 'v', valueFor(r, SMALL_VALUE_BYTES))));
    }
    const big = ['z1', 'z2', 'z3'];
    for (const r of big) {
      expect((await kv.status()).tablets, `no split before ${r}`).to.have.length(1);
      await kv.put(r, 'v', valueFor(r, BIG_VALUE_BYTES));
    }
    await waitUntil(async () => (await kv.status()).tablets.length > 1, SPLIT_WAIT_MS, 'the tablet did not split');
    const { accounting, tablets } = await kv.status();
    const smallRowBytes = 5 + 1 + SMALL_VALUE_BYTES + accounting.cellOverheadBytes + accounting.rowOverheadBytes;
    const bigRowBytes = 2 + 1 + BIG_VALUE_BYTES + accounting.cellOverheadBytes + accounting.rowOverheadBytes;
    // By key count the middle would be near a0500; by bytes it is between z1 and z2.
    expect(tablets.map((t) => [t.start, t.end])).to.deep.equal([['', 'z2'], ['z2', null]]);
    expect(tablets.map((t) => t.bytes)).to.deep.equal([SMALL_ROWS * smallRowBytes + bigRowBytes, 2 * bigRowBytes]);

    expect((await kv.listRows('z2')).rows).to.deep.equal(['z2', 'z3']);
    const left = await kv.listRows('', { after: 'a0998' });
    expect(left).to.deep.equal({ rows: ['a0999', 'z1'], end: 'z2', more: false });

    expect(await node.stop()).to.equal(0);
    node = await startNode(cluster, 0);
    kv = clientFor(cluster);
    expect((await kv.status()).tablets.map((t) => t.start)).to.deep.equal(['', 'z2']);
    for (const r of [...small, ...big]) {
      const size = r.startsWith('z') ? BIG_VALUE_BYTES : SMALL_VALUE_BYTES;
      expect((await kv.get(r, 'v'))!.equals(valueFor(r, size)), r).to.equal(true);
    }
  });
});
