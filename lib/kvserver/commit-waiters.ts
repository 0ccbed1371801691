/**
 * Requests waiting for their write to be committed (durable here and acknowledged by every
 * secondary of the view). Released in seq order as the commit point advances; failed when
 * this node loses its role (the write may never be committed: the client retries, and its
 * request id makes the retry safe) or when the wait runs past its bound.
 */
import { NotCommittedError } from './store-replication.js';

/**
 * Longest a write waits for its commit. The coordinator removes a silent secondary within
 * its failure timeout, after which the commit proceeds; this bound only catches the rest.
 */
export const COMMIT_WAIT_MS = 10_000;

/** How often waiters past their deadline are looked for. */
const SWEEP_INTERVAL_MS = 250;

interface Waiter {
  seq: number;
  deadlineMs: number;
  /** Called once: with null when `seq` is committed, else with why it cannot be seen committed. */
  settle: (err: NotCommittedError | null) => void;
}

export class CommitWaiters {
  /** Mostly in seq order (writes are sequenced in order); released by scanning the front. */
  private waiters: Waiter[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;

  /** Resolves once the commit point reaches `seq` (`committedSeq`: where it is now). */
  wait(seq: number, committedSeq: number): Promise<void> {
    if (seq <= committedSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.add(seq, (err) => (err === null ? resolve() : reject(err))));
  }

  /**
   * Resolves with `committed()` once the commit point reaches `seq`, or with `failed(err)` when
   * this node cannot see it committed: one promise per write, where wait() and a then() for
   * each outcome made three.
   */
  when<T>(seq: number, committedSeq: number, committed: () => T, failed: (err: NotCommittedError) => T): Promise<T> {
    if (seq <= committedSeq) return Promise.resolve(committed());
    return new Promise((resolve) => this.add(seq, (err) => resolve(err === null ? committed() : failed(err))));
  }

  private add(seq: number, settle: (err: NotCommittedError | null) => void): void {
    this.waiters.push({ seq, deadlineMs: Date.now() + COMMIT_WAIT_MS, settle });
    if (this.sweepTimer === null) {
      this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
      this.sweepTimer.unref();
    }
  }

  get size(): number {
    return this.waiters.length;
  }

  /** The commit point reached `seq`. */
  release(seq: number): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= seq) w.settle(null);
      else still.push(w);
    }
    this.waiters = still;
    this.stopSweepIfIdle();
  }

  /** Fails every waiter: this node can no longer see their writes committed. */
  failAll(reason: string): void {
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) w.settle(new NotCommittedError(reason));
    this.stopSweepIfIdle();
  }

  private sweep(): void {
    const now = Date.now();
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.deadlineMs <= now) w.settle(new NotCommittedError(`write ${w.seq} was not acknowledged by every replica within ${COMMIT_WAIT_MS} ms; its outcome is unknown, retry`));
      else still.push(w);
    }
    this.waiters = still;
    this.stopSweepIfIdle();
  }

  private stopSweepIfIdle(): void {
    if (this.waiters.length === 0 && this.sweepTimer !== null) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }
}
