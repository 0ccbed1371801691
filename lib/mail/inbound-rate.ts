/**
 * A cap on mail from clients that have not logged in: at most `messagesPerWindow` accepted
 * messages per client address in a fixed window of `windowMs`. Counted in the memory of one
 * SMTP process (several SMTP processes each count their own). Time comes in as an argument.
 */

/**
 * Client addresses tracked at once. Past it the one tracked longest is forgotten (and starts
 * from zero if it comes back): a flood from many addresses cannot grow the map without bound.
 */
export const RATE_CLIENTS_TRACKED_MAX = 10_000;

interface ClientWindow {
  startMs: number;
  count: number;
}

export class InboundRateLimit {
  /** Insertion order is the order clients were first seen in their current window. */
  private readonly clients = new Map<string, ClientWindow>();

  constructor(
    private readonly messagesPerWindow: number,
    private readonly windowMs: number,
    private readonly clientsTrackedMax = RATE_CLIENTS_TRACKED_MAX,
  ) {}

  /** Seconds `client` must wait before another message, or 0 when it may send now. */
  waitSeconds(client: string, nowMs: number): number {
    const w = this.current(client, nowMs);
    if (w === null || w.count < this.messagesPerWindow) return 0;
    return Math.max(1, Math.ceil((w.startMs + this.windowMs - nowMs) / 1000));
  }

  /** Counts one accepted message from `client`. */
  record(client: string, nowMs: number): void {
    const w = this.current(client, nowMs);
    if (w !== null) {
      w.count++;
      return;
    }
    while (this.clients.size >= this.clientsTrackedMax) this.clients.delete(this.clients.keys().next().value!);
    this.clients.set(client, { startMs: nowMs, count: 1 });
  }

  /** Clients tracked now (for tests of the bound). */
  get size(): number {
    return this.clients.size;
  }

  private current(client: string, nowMs: number): ClientWindow | null {
    const w = this.clients.get(client);
    if (w === undefined) return null;
    if (nowMs - w.startMs >= this.windowMs) {
      this.clients.delete(client);
      return null;
    }
    return w;
  }
}
