/**
 * A background write load for the replication tests: writers that PUT unique keys (`prefix-n`,
 * value `value of prefix-n`) and remember every acknowledged one. A failed write, whose outcome
 * is unknown, is left out: it may or may not be there.
 */
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { valueFor, waitUntil } from './node-process.js';
import { GROUP_WAIT_MS } from './replica-group.js';

/** Writers running at once in one load. */
export const WRITE_LOAD_WRITERS = 4;

/**
 * Writes `count` rows `prefix-i` (column c) with `bytes`-long values (`valueFor`), a few at a
 * time, every write acknowledged before it resolves; the row names, in order.
 */
export async function writeRows(client: KvClient, prefix: string, count: number, bytes: number): Promise<string[]> {
  const rows = Array.from({ length: count }, (_v, i) => `${prefix}-${i}`);
  let next = 0;
  await Promise.all(Array.from({ length: WRITE_LOAD_WRITERS }, async () => {
    while (next < rows.length) {
      const row = rows[next++]!;
      await client.put(row, 'c', valueFor(row, bytes));
    }
  }));
  return rows;
}

/** Loads still running, so that a test's cleanup can stop them whatever its outcome. */
const running = new Set<WriteLoad>();

export class WriteLoad {
  readonly acked = new Map<string, string>();
  failures = 0;
  private running = true;
  private next = 0;
  private readonly done: Promise<void[]>;

  constructor(client: KvClient, prefix: string) {
    running.add(this);
    this.done = Promise.all(Array.from({ length: WRITE_LOAD_WRITERS }, async () => {
      while (this.running) {
        const key = `${prefix}-${this.next++}`;
        const value = `value of ${key}`;
        try {
          await client.put(key, 'c', value);
          this.acked.set(key, value);
        } catch {
          this.failures++;
        }
      }
    }));
  }

  /** Stops, without waiting, every load still running (after a failed test). */
  static abandonAll(): void {
    for (const load of [...running]) load.abandon();
  }

  /** Waits (bounded) for `count` more acknowledged writes. */
  async more(count: number, what: string): Promise<void> {
    const target = this.acked.size + count;
    await waitUntil(async () => this.acked.size >= target, GROUP_WAIT_MS, `${what}: no ${count} more acknowledged writes`);
  }

  async stop(): Promise<void> {
    this.running = false;
    running.delete(this);
    await this.done;
  }

  /** Stops without waiting (its client may be closed already). */
  abandon(): void {
    this.running = false;
    running.delete(this);
  }
}
