/**
 * The dispatcher's view of the frontends: who is alive (heard from within the timeout) and
 * which one the next user goes to. A deterministic core: time and randomness come in as
 * arguments, so every rule here is tested without sockets or sleeps.
 */

export type DispatchPolicy = 'random' | 'least-load';

export interface FrontendEntry {
  id: number;
  url: string;
  /** Connections the frontend reported in its last heartbeat. */
  connections: number;
  /** Users sent there since that heartbeat: load it has not been able to report yet. */
  redirectsSinceHeartbeat: number;
  lastHeartbeatMs: number;
}

/** Most frontends remembered at once, so a flood of forged ids cannot grow the table. */
export const FRONTENDS_MAX = 1_024;

export class FrontendRegistry {
  private readonly entries = new Map<number, FrontendEntry>();

  /** @param timeoutMs silence after which a frontend is no longer offered to users */
  constructor(private readonly timeoutMs: number) {}

  /** Records a heartbeat; a frontend that was dropped is simply alive again. */
  heartbeat(id: number, url: string, connections: number, nowMs: number): void {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      this.forgetDead(nowMs);
      if (this.entries.size >= FRONTENDS_MAX) return;
      this.entries.set(id, { id, url, connections, redirectsSinceHeartbeat: 0, lastHeartbeatMs: nowMs });
      return;
    }
    entry.url = url;
    entry.connections = connections;
    entry.redirectsSinceHeartbeat = 0;
    entry.lastHeartbeatMs = Math.max(entry.lastHeartbeatMs, nowMs);
  }

  /** Drops a frontend at once (it said it is stopping); true when it was known. */
  forget(id: number): boolean {
    return this.entries.delete(id);
  }

  /** Frontends heard from within the timeout, by id. */
  alive(nowMs: number): FrontendEntry[] {
    return [...this.entries.values()]
      .filter((e) => nowMs - e.lastHeartbeatMs < this.timeoutMs)
      .sort((a, b) => a.id - b.id);
  }

  /** Every frontend ever heard from and not yet forgotten, alive or not (for the admin). */
  all(): FrontendEntry[] {
    return [...this.entries.values()].sort((a, b) => a.id - b.id);
  }

  /**
   * Picks the frontend for the next user, or undefined when none is alive. `least-load` takes
   * the fewest reported connections plus redirects sent since (so a burst of users between two
   * heartbeats spreads out); ties are broken at random. `random01` is a source in [0, 1).
   */
  choose(policy: DispatchPolicy, nowMs: number, random01: () => number): FrontendEntry | undefined {
    const candidates = this.alive(nowMs);
    if (candidates.length === 0) return undefined;
    let pool = candidates;
    if (policy === 'least-load') {
      const load = (e: FrontendEntry): number => e.connections + e.redirectsSinceHeartbeat;
      const least = Math.min(...candidates.map(load));
      pool = candidates.filter((e) => load(e) === least);
    }
    const chosen = pool[Math.min(pool.length - 1, Math.floor(random01() * pool.length))]!;
    chosen.redirectsSinceHeartbeat++;
    return chosen;
  }

  /** Drops entries silent for ten timeouts: long dead, no longer worth listing. */
  private forgetDead(nowMs: number): void {
    for (const [id, e] of this.entries) {
      if (nowMs - e.lastHeartbeatMs >= this.timeoutMs * 10) this.entries.delete(id);
    }
  }
}
