import { expect } from 'chai';
import { checkHistory, operationsFromEvents } from '../../lib/lincheck/index.js';
import { exhaustingHistory, get, ok, put } from './kv-events.js';

/** A clock that jumps a second each time it is read: any deadline passes at the first look. */
function leapingClock(): () => number {
  let nowMs = 0;
  return () => (nowMs += 1_000);
}

describe('lincheck: bounds', () => {
  it('answers unknown, naming the key, when the deadline passes', () => {
    const ops = operationsFromEvents(exhaustingHistory(14));
    const result = checkHistory(ops, { timeoutMs: 10, nowMs: leapingClock() });
    expect(result).to.deep.equal({ verdict: 'unknown', unknownKeys: [{ key: 'k', reason: 'timeout' }] });
  });

  it('answers unknown on the real clock within the time bound rather than hang', () => {
    // About 22 * 2^21 states: minutes of search and more memory than the cache allows.
    const ops = operationsFromEvents(exhaustingHistory(22));
    const startedMs = performance.now();
    const result = checkHistory(ops, { timeoutMs: 50 });
    expect(result.verdict).to.equal('unknown');
    expect(performance.now() - startedMs).to.be.below(5_000);
  });

  it('answers unknown when the cache reaches its memory bound', () => {
    const ops = operationsFromEvents(exhaustingHistory(14));
    const result = checkHistory(ops, { cacheBytesMax: 64 * 1024 });
    expect(result).to.deep.equal({ verdict: 'unknown', unknownKeys: [{ key: 'k', reason: 'cache-full' }] });
  });

  it('finds the answer when the bounds allow it', () => {
    const ops = operationsFromEvents(exhaustingHistory(10));
    expect(checkHistory(ops).verdict).to.equal('not-linearizable');
  });

  it('lets a violation on one key win over another key that ran out of time', () => {
    const events = [
      ...exhaustingHistory(14, 'a-hard'),
      put(20, 'b-easy', 'x'), ok(20),
      get(21, 'b-easy'), ok(21, 'y'),
    ];
    const result = checkHistory(operationsFromEvents(events), { timeoutMs: 10, nowMs: leapingClock() });
    expect(result.verdict).to.equal('not-linearizable');
    if (result.verdict === 'not-linearizable') expect(result.violation.key).to.equal('b-easy');
  });
});
