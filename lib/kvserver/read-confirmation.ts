/**
 * Reads without the coordinator: a primary whose lease ran out (the coordinator is down or
 * unreachable) may still serve a read once every secondary of its view has answered a probe
 * sent after the read arrived (the probe carries a nonce the ack echoes).
 *
 * Why that is enough: a new primary is always a member of this view (the coordinator's holders
 * rule), and it takes no write before it has learned of its new view, after which it refuses
 * this view's probes. So if every secondary answered in this view after the read arrived, no
 * write of a newer view had happened when the read arrived, and this copy (whose pending
 * writes the read waits for) is current. With no secondary in the view, only this node may
 * ever be made primary again: its reads need no confirmation.
 */

/** Longest a read waits for the secondaries to confirm; then it is answered UNAVAILABLE. */
export const READ_CONFIRM_WAIT_MS = 1_000;

interface Round {
  nonce: number;
  view: number;
  /** Event tick when the probes left: reads that arrived before it may use the round. */
  startTick: number;
  pending: Set<number>;
  promise: Promise<boolean>;
  settle: (confirmed: boolean) => void;
  timer: NodeJS.Timeout;
}

export class ReadConfirmation {
  /** Orders read arrivals and probe rounds (a clock could not tell apart two in one ms). */
  private tick = 0;
  private nextNonce = 1;
  private round: Round | null = null;

  /** @param sendProbes sends a probe with `nonce` to every secondary of the current view */
  constructor(private readonly sendProbes: (nonce: number) => void) {}

  /** A read arrived: its place in the order of events. */
  arrived(): number {
    return ++this.tick;
  }

  /**
   * Resolves true once every one of `secondaries` answered a probe of `view` sent after the
   * read that arrived at `arrival`; false when the view changed or the wait ran out.
   */
  confirm(arrival: number, view: number, secondaries: readonly number[]): Promise<boolean> {
    if (secondaries.length === 0) return Promise.resolve(true);
    const round = this.round;
    if (round !== null && round.view === view && round.startTick > arrival) return round.promise;
    // A round whose probes left before this read arrived proves nothing about it.
    const previous = round?.promise ?? Promise.resolve(true);
    return previous.then(() => {
      const now = this.round;
      if (now !== null && now.view === view && now.startTick > arrival) return now.promise;
      return this.start(view, secondaries);
    });
  }

  /** An ack in `view` from `peer`, answering the probe that carried `nonce`. */
  acked(peer: number, view: number, nonce: number): void {
    const round = this.round;
    if (round === null || round.nonce !== nonce || round.view !== view) return;
    round.pending.delete(peer);
    if (round.pending.size === 0) this.finish(true);
  }

  /** The view changed or the node stopped: the round in progress confirms nothing. */
  reset(): void {
    if (this.round !== null) this.finish(false);
  }

  private start(view: number, secondaries: readonly number[]): Promise<boolean> {
    if (this.round !== null) this.finish(false);
    let settle!: (confirmed: boolean) => void;
    const promise = new Promise<boolean>((resolve) => { settle = resolve; });
    const nonce = this.nextNonce++;
    const timer = setTimeout(() => {
      if (this.round?.nonce === nonce) this.finish(false);
    }, READ_CONFIRM_WAIT_MS);
    this.round = { nonce, view, startTick: ++this.tick, pending: new Set(secondaries), promise, settle, timer };
    this.sendProbes(nonce);
    return promise;
  }

  private finish(confirmed: boolean): void {
    const round = this.round!;
    this.round = null;
    clearTimeout(round.timer);
    round.settle(confirmed);
  }
}
