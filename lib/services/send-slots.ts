/**
 * A bound on webmail sends handled at once by one frontend. Each send streams its attachments
 * into the store and its message out of the composer, holding a few chunks of its own besides
 * what it borrows from the transfer budget; the bound keeps the sum of those fixed however many
 * users press Send together. Sends past it wait their turn, a bounded number for a bounded time.
 */
import { PennError } from '../protocol/errors.js';

/** Sends a frontend works on at once (the rest wait). */
export const MAIL_SENDS_IN_FLIGHT_MAX = 4;
/** Sends that may wait for a slot; past it a send is refused with UNAVAILABLE (503). */
export const MAIL_SENDS_WAITING_MAX = 64;
/** Longest wait for a slot before the send is refused (the client may try again). */
export const MAIL_SEND_WAIT_MS = 120_000;

export class SendSlots {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly inFlightMax = MAIL_SENDS_IN_FLIGHT_MAX,
    private readonly waitingMax = MAIL_SENDS_WAITING_MAX,
    private readonly waitMs = MAIL_SEND_WAIT_MS,
  ) {}

  /** Runs `work` in a slot, waiting for one if all are busy. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.take();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private take(): Promise<void> {
    if (this.busy < this.inFlightMax) {
      this.busy++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.waitingMax) {
      return Promise.reject(new PennError('UNAVAILABLE', `too many messages are waiting to be sent here (at most ${this.waitingMax}); try again shortly`, { reason: 'SENDS_BUSY' }));
    }
    return new Promise((resolve, reject) => {
      const ready = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(ready);
        if (at !== -1) this.waiting.splice(at, 1);
        reject(new PennError('UNAVAILABLE', `no room to send the message within ${this.waitMs / 1000} s; try again shortly`, { reason: 'SENDS_BUSY' }));
      }, this.waitMs);
      this.waiting.push(ready);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter.
    if (next !== undefined) next();
    else this.busy--;
  }
}
