import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistory, describeViolation, parseHistory, type Operation } from '../../lib/lincheck/index.js';
import { JEPSEN_VECTORS_DIR } from './repo-paths.js';

type Verdict = 'linearizable' | 'not-linearizable';

/** The VERDICTS file: one `FILE VERDICT` per line. */
function readVerdicts(): Map<string, Verdict> {
  const text = readFileSync(join(JEPSEN_VECTORS_DIR, 'VERDICTS'), 'utf8');
  const verdicts = new Map<string, Verdict>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [file, verdict] = line.trim().split(/\s+/);
    expect(verdict, line).to.be.oneOf(['linearizable', 'not-linearizable']);
    verdicts.set(file!, verdict as Verdict);
  }
  return verdicts;
}

function readVector(file: string): Operation[] {
  return parseHistory(readFileSync(join(JEPSEN_VECTORS_DIR, file), 'utf8')).operations;
}

/** Files whose verdict differs from VERDICTS, as `file: expected X, got Y`. */
function mismatches(verdicts: Map<string, Verdict>, load: (file: string) => Operation[]): string[] {
  const wrong: string[] = [];
  for (const [file, expected] of verdicts) {
    // A generous bound: each of these takes milliseconds; the bound only keeps a bug from hanging CI.
    const got = checkHistory(load(file), { timeoutMs: 10_000 }).verdict;
    if (got !== expected) wrong.push(`${file}: expected ${expected}, got ${got}`);
  }
  return wrong;
}

describe('lincheck: Jepsen cas-register vectors', () => {
  let verdicts: Map<string, Verdict>;

  before(() => {
    // Missing vectors are a broken checkout, not a reason to skip: the checker is unproven without them.
    expect(existsSync(JEPSEN_VECTORS_DIR), `vectors missing at ${JEPSEN_VECTORS_DIR}`).to.equal(true);
    verdicts = readVerdicts();
  });

  it('has a verdict for every history in the directory', () => {
    const logs = readdirSync(JEPSEN_VECTORS_DIR).filter((f) => f.endsWith('.log')).sort();
    expect(logs.length).to.be.above(0);
    expect([...verdicts.keys()].sort()).to.deep.equal(logs);
  });

  it('gives every history its known verdict', () => {
    expect(mismatches(verdicts, readVector)).to.deep.equal([]);
  });

  it('gives the same verdicts when a failed cas is read as one that saw another value', () => {
    // Jepsen's etcd client reports a cas whose comparison failed as :fail. Recording it as
    // an ok that was not applied checks more (the value did differ); the answers must hold.
    const asNotApplied = (file: string): Operation[] =>
      readVector(file).map((op) =>
        op.call.f === 'cas' && op.outcome === 'fail' ? { ...op, outcome: 'ok', applied: false } : op,
      );
    expect(mismatches(verdicts, asNotApplied)).to.deep.equal([]);
  });

  it('explains a violation with the register, a prefix and the operation that could not fit', () => {
    const result = checkHistory(readVector('etcd_001.log'));
    expect(result.verdict).to.equal('not-linearizable');
    if (result.verdict !== 'not-linearizable' || result.violation.kind !== 'dead-end') {
      expect.fail(`expected a dead end, got ${JSON.stringify(result).slice(0, 200)}`);
    }
    const report = describeViolation(result.violation).join('\n');
    expect(report).to.match(/^key "register": no valid order of its \d+ operations/);
    expect(report).to.match(/longest linearizable prefix: \d+ operations/);
    expect(report).to.include(`then #${result.violation.overdue.id} process ${result.violation.overdue.process}`);
    expect(report).to.match(/\[line \d+ to line \d+\]/);
  });
});
