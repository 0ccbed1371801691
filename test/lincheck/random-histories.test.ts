/**
 * The checker against a brute-force oracle on many small random histories: every order of
 * every subset of the `info` operations is tried, which is too slow for real histories but
 * obviously right. This guards the search's shortcuts (the cache, dropped `info` writes,
 * the order of passes, `info` twins) that the hand-written cases might miss.
 */
import { expect } from 'chai';
import {
  checkHistory,
  HistoryBuilder,
  type Operation,
  type RegisterCall,
  type RegisterValue,
} from '../../lib/lincheck/index.js';
import { seededRandom } from '../support/seeded-random.js';

const VALUES = ['a', 'b', 'c'];
/** Enough histories to meet the rare shapes; few enough operations for the oracle. */
const HISTORIES = Number(process.env.LINCHECK_RANDOM_HISTORIES ?? 3000);
const HISTORY_OPS_SPREAD = 6;
const CLIENTS = [0, 1, 2, 3];

/**
 * A history of a real register driven by concurrent clients: each operation takes effect at
 * a random instant while it is outstanding (or not at all, for fail and some info), then
 * sometimes a result is corrupted so that both verdicts occur.
 */
function randomHistory(random: () => number, opsMax: number): Operation[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const builder = new HistoryBuilder();
  let state: RegisterValue = null;
  type Open = { call: RegisterCall; applied: boolean | undefined; read: RegisterValue | undefined; fate: 'ok' | 'fail' | 'info'; done: boolean };
  const open = new Map<number, Open>();
  let invoked = 0;
  const limbo: RegisterCall[] = [];
  while (invoked < opsMax || open.size > 0) {
    const idle = CLIENTS.filter((p) => !open.has(p));
    const r = random();
    if (limbo.length > 0 && random() < 0.1) {
      // An info operation whose client gave up takes effect after all, late.
      const late = limbo.splice(Math.floor(random() * limbo.length), 1)[0]!;
      state = applyForReal(state, late);
      continue;
    }
    if (idle.length > 0 && invoked < opsMax && (r < 0.45 || open.size === 0)) {
      const p = pick(idle);
      const call = pick<RegisterCall>([
        { f: 'read' },
        { f: 'write', value: pick(VALUES) },
        { f: 'cas', expected: pick([null, ...VALUES]), value: pick(VALUES) },
        { f: 'delete' },
      ]);
      const fate = random() < 0.7 ? 'ok' : random() < 0.5 ? 'fail' : 'info';
      builder.invoke(p, 'k', call);
      open.set(p, { call, applied: undefined, read: undefined, fate, done: false });
      invoked++;
      continue;
    }
    const [p, o] = pick([...open.entries()]);
    if (!o.done && r < 0.75) {
      // The operation takes effect now (a failed one never does; an info one may not).
      o.done = true;
      if (o.fate === 'fail' || (o.fate === 'info' && random() < 0.3)) continue;
      if (o.call.f === 'read') o.read = state;
      if (o.call.f === 'cas') o.applied = state === o.call.expected;
      state = applyForReal(state, o.call);
      continue;
    }
    if (!o.done && o.fate === 'ok') continue;
    open.delete(p);
    if (!o.done && o.fate === 'info' && random() < 0.5) limbo.push(o.call);
    if (o.fate !== 'ok') {
      builder.complete(p, { outcome: o.fate });
      continue;
    }
    const corrupt = random() < 0.2;
    if (o.call.f === 'read') builder.complete(p, { outcome: 'ok', readValue: corrupt ? pick([null, ...VALUES]) : o.read! });
    else if (o.call.f === 'cas') builder.complete(p, { outcome: 'ok', applied: corrupt ? !o.applied : o.applied! });
    else builder.complete(p, { outcome: 'ok' });
  }
  return builder.build();
}

/** What a call does to the simulated register. */
function applyForReal(state: RegisterValue, call: RegisterCall): RegisterValue {
  if (call.f === 'write') return call.value;
  if (call.f === 'delete') return null;
  if (call.f === 'cas' && state === call.expected) return call.value;
  return state;
}

/** True when some order of the ok operations and some of the info ones explains everything. */
function bruteForceLinearizable(ops: readonly Operation[]): boolean {
  const live = ops.filter((op) => op.outcome !== 'fail');
  const placed = new Array<boolean>(live.length).fill(false);
  const mustPlace = live.filter((op) => op.outcome === 'ok').length;
  const search = (state: RegisterValue, count: number): boolean => {
    if (count === mustPlace) return true;
    for (let i = 0; i < live.length; i++) {
      if (placed[i]) continue;
      const op = live[i]!;
      // Real-time order: nothing still unplaced may have completed before this one began.
      if (live.some((other, j) => !placed[j] && j !== i && other.completeAt < op.invokeAt)) continue;
      const next = apply(state, op);
      if (next === undefined) continue;
      placed[i] = true;
      const found = search(next, count + (op.outcome === 'ok' ? 1 : 0));
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(null, 0);
}

/** The register, written independently of the checker's model. */
function apply(state: RegisterValue, op: Operation): RegisterValue | undefined {
  const call = op.call;
  const known = op.outcome === 'ok';
  if (call.f === 'read') return !known || op.readValue === state ? state : undefined;
  if (call.f === 'write') return call.value;
  if (call.f === 'delete') return null;
  const matches = state === call.expected;
  if (!known) return matches ? call.value : state;
  if (op.applied === false) return matches ? undefined : state;
  return matches ? call.value : undefined;
}

describe('lincheck: random histories against a brute-force oracle', () => {
  it(`agrees on ${HISTORIES} small histories of ${CLIENTS.length} clients`, () => {
    const random = seededRandom(20_240_601);
    const disagreements: string[] = [];
    const counts = { linearizable: 0, 'not-linearizable': 0 };
    for (let i = 0; i < HISTORIES; i++) {
      const ops = randomHistory(random, 4 + Math.floor(random() * HISTORY_OPS_SPREAD));
      const expected = bruteForceLinearizable(ops) ? 'linearizable' : 'not-linearizable';
      const got = checkHistory(ops, { timeoutMs: 10_000 }).verdict;
      if (got !== expected) disagreements.push(`#${i}: expected ${expected}, got ${got}: ${JSON.stringify(ops)}`);
      else counts[expected]++;
    }
    expect(disagreements).to.deep.equal([]);
    // Both answers must be common, or the comparison proves little.
    expect(counts.linearizable).to.be.above(500);
    expect(counts['not-linearizable']).to.be.above(500);
  });
});
