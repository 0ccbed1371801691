/**
 * Test support: the nemesis's plan, a pure function of a seed. Every fault kind appears at
 * least once (a seeded shuffle of the kinds), the remaining rounds pick kinds at random, so a
 * run covers every fault and `NEMESIS_SEED=N` replays the same plan.
 */
import { seededRandom } from '../support/seeded-random.js';

/**
 * What the nemesis does in one round. `kill-*` is kill -9 followed by a restart, `pause-*`
 * SIGSTOP followed by SIGCONT; primary and secondary are taken from the coordinator's view at
 * the moment of the fault.
 */
export type FaultKind = 'kill-primary' | 'kill-secondary' | 'kill-coordinator' | 'pause-primary' | 'pause-secondary';

export const FAULT_KINDS: readonly FaultKind[] = ['kill-primary', 'kill-secondary', 'kill-coordinator', 'pause-primary', 'pause-secondary'];

/**
 * How long a fault lasts: from well within the failure timeout of the test group (600 ms: a
 * short pause deposes nobody) to well past it.
 */
export const HOLD_MS_MIN = 200;
export const HOLD_MS_MAX = 3_000;
/** Operations the clients must also have completed under the fault before it is healed... */
export const HOLD_OPERATIONS_MIN = 50;
export const HOLD_OPERATIONS_MAX = 300;
/**
 * ...waited for at most this long past the hold time: some faults stop every client for a
 * while (those of a paused primary wait for it), and that is the fault, not a failure.
 */
export const HOLD_EXTENSION_MS_MAX = 3_000;

export interface FaultPlan {
  round: number;
  kind: FaultKind;
  /** Which secondary, when the fault takes one (an index into the view's secondaries). */
  secondaryPick: number;
  /** The fault lasts this long... */
  holdMs: number;
  /** ...and until the clients completed this many operations under it (bounded). */
  holdOperations: number;
}

/** The plan of `rounds` rounds for `seed`, holding each of `allowed` at least once. */
export function planFaults(seed: number, rounds: number, allowed: readonly FaultKind[] = FAULT_KINDS): FaultPlan[] {
  if (allowed.length === 0 || rounds < allowed.length) throw new Error(`a plan of ${rounds} rounds cannot hold each of ${allowed.length} kinds of fault`);
  const random = seededRandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const kinds = [...allowed];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = int(0, i);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  while (kinds.length < rounds) kinds.push(allowed[int(0, allowed.length - 1)]!);
  return kinds.map((kind, round) => ({
    round,
    kind,
    secondaryPick: int(0, 1),
    holdMs: int(HOLD_MS_MIN, HOLD_MS_MAX),
    holdOperations: int(HOLD_OPERATIONS_MIN, HOLD_OPERATIONS_MAX),
  }));
}

/** One line per round, for the test's output and failure reports. */
export function describePlan(plan: FaultPlan[]): string {
  return plan.map((f) => `round ${f.round}: ${f.kind}${f.kind.endsWith('secondary') ? ` #${f.secondaryPick}` : ''}, `
    + `hold ${f.holdMs} ms and ${f.holdOperations} operations`).join('\n');
}

/**
 * The kinds of fault from NEMESIS_FAULTS (comma-separated, to narrow a run down while
 * debugging one of them), or all of them.
 */
export function nemesisFaultKinds(env: NodeJS.ProcessEnv = process.env): FaultKind[] {
  const text = env.NEMESIS_FAULTS;
  if (text === undefined || text.trim() === '') return [...FAULT_KINDS];
  return text.split(',').map((name) => {
    const kind = name.trim() as FaultKind;
    if (!FAULT_KINDS.includes(kind)) throw new Error(`NEMESIS_FAULTS: unknown fault ${JSON.stringify(name)} (known: ${FAULT_KINDS.join(', ')})`);
    return kind;
  });
}

/** The seed from NEMESIS_SEED, or a fresh one; throws on a value that is not an integer. */
export function nemesisSeed(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.NEMESIS_SEED;
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 31);
  if (!/^\d+$/.test(text)) throw new Error(`NEMESIS_SEED must be a non-negative integer, not ${JSON.stringify(text)}`);
  return Number(text);
}
