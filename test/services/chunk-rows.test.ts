import { expect } from 'chai';
import { CHUNKS_PER_RUN, chunkRow, newContentId } from '../../lib/services/chunk-rows.js';
import { rowKey } from '../../lib/services/row-keys.js';

describe('services: where file chunks live', () => {
  it('lays a new content out in runs: one spread prefix per run, rows in chunk order', () => {
    const id = newContentId();
    expect(id).to.match(/^r[0-9a-f]{32}$/);
    const rows = Array.from({ length: 3 * CHUNKS_PER_RUN }, (_v, i) => chunkRow(id, i));
    const prefixes = rows.map((r) => r.slice(0, r.lastIndexOf(':')));
    expect(new Set(prefixes).size, 'one prefix per run').to.equal(3);
    for (let run = 0; run < 3; run++) {
      const inRun = rows.slice(run * CHUNKS_PER_RUN, (run + 1) * CHUNKS_PER_RUN);
      expect(new Set(inRun.map((r) => r.slice(0, r.lastIndexOf(':')))).size, `run ${run}`).to.equal(1);
      expect([...inRun].sort(), `run ${run} sorts in chunk order`).to.deep.equal(inRun);
      expect(inRun[0]!.startsWith(rowKey('chunk', `${id}:${run}`))).to.equal(true);
    }
    expect(chunkRow(id, 1234567)).to.match(/:0001234567$/);
  });

  it('keeps the row of every chunk of a content written before runs', () => {
    const old = '5f0c1e2d3c4b5a69788796a5b4c3d2e1';
    for (const i of [0, 1, 63, 64, 1000]) expect(chunkRow(old, i)).to.equal(rowKey('chunk', `${old}:${i}`));
  });

  it('gives every upload its own content id', () => {
    expect(newContentId()).to.not.equal(newContentId());
  });
});
