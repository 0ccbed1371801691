import { expect } from 'chai';
import { parseRange } from '../../lib/router/byte-range.js';

describe('router: single byte ranges (RFC 9110 §14)', () => {
  const size = 1000;
  const cases: Array<[string | undefined, ReturnType<typeof parseRange>]> = [
    [undefined, { kind: 'none' }],
    ['bytes=0-99', { kind: 'range', range: { start: 0, end: 99 } }],
    ['bytes=900-', { kind: 'range', range: { start: 900, end: 999 } }],
    ['bytes=900-5000', { kind: 'range', range: { start: 900, end: 999 } }],
    ['bytes=-100', { kind: 'range', range: { start: 900, end: 999 } }],
    ['bytes=-5000', { kind: 'range', range: { start: 0, end: 999 } }],
    ['bytes=999-999', { kind: 'range', range: { start: 999, end: 999 } }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=5-2', { kind: 'none' }],
    ['bytes=0-1,5-6', { kind: 'none' }],
    ['items=0-1', { kind: 'none' }],
    ['bytes=a-b', { kind: 'none' }],
    ['bytes=+1-2', { kind: 'none' }],
    ['bytes', { kind: 'none' }],
  ];
  for (const [header, expected] of cases) {
    it(`${header ?? '(absent)'} of ${size} bytes`, () => {
      expect(parseRange(header, size)).to.deep.equal(expected);
    });
  }

  it('an empty file satisfies no range', () => {
    expect(parseRange('bytes=0-', 0)).to.deep.equal({ kind: 'unsatisfiable' });
  });
});
