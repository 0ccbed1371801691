/**
 * RefusalLog: warnings about refused strangers are capped per window, and the ones held back
 * are counted in one line when the next window opens.
 */
import { expect } from 'chai';
import { REFUSAL_LINES_PER_WINDOW_MAX, REFUSAL_LOG_WINDOW_MS, RefusalLog, type LogFields } from '../../lib/protocol/log.js';

function harness(): { log: RefusalLog; lines: { message: string; fields?: LogFields }[]; clock: { nowMs: number } } {
  const lines: { message: string; fields?: LogFields }[] = [];
  const clock = { nowMs: 1_000_000 };
  const log = new RefusalLog((message, fields) => lines.push({ message, fields }), () => clock.nowMs);
  return { log, lines, clock };
}

describe('RefusalLog', () => {
  it('writes the first refusals of a window and holds back the rest', () => {
    const { log, lines } = harness();
    for (let i = 0; i < 1000; i += 1) log.warn('refused', { i });
    expect(lines).to.have.length(REFUSAL_LINES_PER_WINDOW_MAX);
    expect(lines.map((l) => l.fields?.i)).to.deep.equal(Array.from({ length: REFUSAL_LINES_PER_WINDOW_MAX }, (_v, i) => i));
  });

  it('says how many were held back when the next window opens, then writes again', () => {
    const { log, lines, clock } = harness();
    for (let i = 0; i < 25; i += 1) log.warn('refused', { i });
    clock.nowMs += REFUSAL_LOG_WINDOW_MS - 1;
    log.warn('refused', { i: 25 });
    expect(lines).to.have.length(REFUSAL_LINES_PER_WINDOW_MAX);
    clock.nowMs += 1;
    log.warn('refused', { i: 26 });
    expect(lines.slice(REFUSAL_LINES_PER_WINDOW_MAX)).to.deep.equal([
      { message: 'more refusals were not logged', fields: { count: 16, windowMs: REFUSAL_LOG_WINDOW_MS } },
      { message: 'refused', fields: { i: 26 } },
    ]);
  });

  it('writes no summary after a window in which nothing was held back', () => {
    const { log, lines, clock } = harness();
    log.warn('refused', { i: 0 });
    clock.nowMs += REFUSAL_LOG_WINDOW_MS;
    log.warn('refused', { i: 1 });
    expect(lines.map((l) => l.message)).to.deep.equal(['refused', 'refused']);
  });
});
