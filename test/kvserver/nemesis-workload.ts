/**
 * Test support for the nemesis: clients that use the store while it is being hurt, and the
 * history of what they saw (docs/history-format.md). Contending clients do random GET, PUT,
 * CPUT and DELETE with unique values on a few shared keys; a ledger writer PUTs each of its
 * keys once, so that every write it had acknowledged can be looked for after restarts.
 */
import type { HistoryEvent, KvOperationName } from '../../lib/lincheck/index.js';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { isPennError } from '../../lib/protocol/errors.js';
import { seededRandom } from '../support/seeded-random.js';
import { COLUMN } from './nemesis-cluster.js';

/** The keys the contending clients share: few, so that they meet on them. */
export const CONTENDED_KEYS = ['k0', 'k1', 'k2', 'k3'];
/** Contending clients, each one process of the history. */
export const CONTENDING_PROCESSES = 6;
/** Makes each ledger row big enough that the ledger splits the group's tablet a few times. */
const LEDGER_PADDING = '.'.repeat(400);
/** The ledger writer's process number (after the contending ones). */
export const LEDGER_PROCESS = CONTENDING_PROCESSES;
/** Process numbers from here on are the checks' readers after the faults. */
export const READER_PROCESS_FIRST = 100;
/**
 * Each contending client waits up to this long (seeded, uniform) before its next operation,
 * and the ledger writer up to LEDGER_STAGGER_MS_MAX: unpaced, the clients would record tens of
 * thousands of operations a minute, more than the checker and the reads after the restarts
 * need, on a machine the cluster shares with them.
 */
const STAGGER_MS_MAX = 20;
const LEDGER_STAGGER_MS_MAX = 100;

function stagger(random: () => number, msMax: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.floor(random() * msMax)));
}

/** What a call returned, in the history's terms. */
interface Completion {
  value?: string | null;
  applied?: boolean;
}

type Counter = 'ok' | 'writes';

/**
 * The history, in real-time order: an event is appended from the one thread that observes
 * it, just before the request goes out or as soon as its answer arrives.
 */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private readonly counts: Record<Counter, number> = { ok: 0, writes: 0 };
  private waiters: { counter: Counter; target: number; resolve: () => void }[] = [];

  /** Operations completed ok, and among them the writes that took effect. */
  count(counter: Counter): number {
    return this.counts[counter];
  }

  /**
   * Records one call. An error leaves the outcome unknown (`info`): a write that timed out or
   * lost its connection may still have been applied. Resolves with the completion, or null.
   */
  async call(process: number, invocation: { op: KvOperationName; key: string; value?: string; expected?: string | null },
    run: () => Promise<Completion>): Promise<Completion | null> {
    this.events.push({ type: 'invoke', process, ...invocation, timeMs: Date.now() });
    let completion: Completion;
    try {
      completion = await run();
    } catch (err) {
      this.events.push({ type: 'info', process, error: isPennError(err) ? `${err.code}: ${err.message}` : String(err), timeMs: Date.now() });
      return null;
    }
    this.events.push({ type: 'ok', process, ...completion, timeMs: Date.now() });
    this.bump('ok');
    if (invocation.op !== 'get' && completion.applied !== false) this.bump('writes');
    return completion;
  }

  /** Resolves true once `counter` reaches `target`, or false after `waitMs`. */
  reach(counter: Counter, target: number, waitMs: number): Promise<boolean> {
    if (this.counts[counter] >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { counter, target, resolve: () => { clearTimeout(timer); resolve(true); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  private bump(counter: Counter): void {
    this.counts[counter]++;
    const due = this.waiters.filter((w) => w.counter === counter && this.counts[counter] >= w.target);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => !due.includes(w));
    for (const w of due) w.resolve();
  }
}

/** The contending clients and the ledger writer, running until `stop`. */
export class NemesisWorkload {
  private running = true;
  private readonly done: Promise<void[]>;

  constructor(readonly recorder: HistoryRecorder, clientFor: () => KvClient, seed: number) {
    const contending = Array.from({ length: CONTENDING_PROCESSES }, (_v, p) => this.contend(p, clientFor(), seededRandom(seed + 7919 * (p + 1))));
    this.done = Promise.all([...contending, this.writeLedger(clientFor(), seededRandom(seed + 7919 * (LEDGER_PROCESS + 1)))]);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Stops starting operations, without waiting for those in flight (after a failure). */
  halt(): void {
    this.running = false;
  }

  /** Random operations on the shared keys; a CPUT expects what this client last saw there. */
  private async contend(process: number, client: KvClient, random: () => number): Promise<void> {
    const lastSeen = new Map<string, string | null>();
    for (let n = 0; this.running; n++) {
      await stagger(random, STAGGER_MS_MAX);
      const key = CONTENDED_KEYS[Math.floor(random() * CONTENDED_KEYS.length)]!;
      const value = `p${process}-${n}`;
      const dice = random();
      if (dice < 0.35) {
        const got = await this.recorder.call(process, { op: 'get', key }, async () => ({ value: (await client.get(key, COLUMN))?.toString() ?? null }));
        if (got !== null) lastSeen.set(key, got.value ?? null);
      } else if (dice < 0.6) {
        const put = await this.recorder.call(process, { op: 'put', key, value }, async () => {
          await client.put(key, COLUMN, value);
          return {};
        });
        if (put !== null) lastSeen.set(key, value);
      } else if (dice < 0.9) {
        const expected = lastSeen.get(key) ?? null;
        let current: string | null = null;
        const cput = await this.recorder.call(process, { op: 'cput', key, expected, value }, async () => {
          const result = await client.cput(key, COLUMN, expected, value);
          if (result.ok) return {};
          current = result.current?.toString() ?? null;
          return { applied: false };
        });
        if (cput !== null) lastSeen.set(key, cput.applied === false ? current : value);
      } else {
        const gone = await this.recorder.call(process, { op: 'delete', key }, async () => {
          await client.delete(key, COLUMN);
          return {};
        });
        if (gone !== null) lastSeen.set(key, null);
      }
    }
  }

  /** PUTs of fresh keys, one after another, each key written once. */
  private async writeLedger(client: KvClient, random: () => number): Promise<void> {
    for (let n = 0; this.running; n++) {
      await stagger(random, LEDGER_STAGGER_MS_MAX);
      const key = `ledger-${String(n).padStart(6, '0')}`;
      const value = `l${n}:${LEDGER_PADDING}`;
      await this.recorder.call(LEDGER_PROCESS, { op: 'put', key, value }, async () => {
        await client.put(key, COLUMN, value);
        return {};
      });
    }
  }
}
