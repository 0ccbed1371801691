/**
 * The chunk bytes a frontend holds for all its file transfers together, past the one chunk
 * each transfer may always hold: chunk writes in flight of every upload, chunks read ahead of
 * every download. A transfer takes from the budget only without waiting (when it is spent, the
 * transfer goes on with what it has), so the transfers can never wait on each other, and a
 * frontend that carries many at once stays within a fixed bound however many there are.
 */
import assert from 'node:assert/strict';

/**
 * Default budget of one frontend (one StorageService): four uploads with their full window of
 * writes in flight (UPLOAD_BYTES_IN_FLIGHT_MAX) or eight downloads reading their full distance
 * ahead (READ_AHEAD_BYTES_MAX); past that, further transfers go one chunk at a time.
 */
export const TRANSFER_BUDGET_BYTES = 64 * 1024 * 1024;

/** A count of bytes taken and given back, never above its maximum. */
export class TransferBudget {
  private takenBytes = 0;

  constructor(readonly bytesMax: number) {
    assert.ok(Number.isSafeInteger(bytesMax) && bytesMax >= 0, 'a transfer budget is a byte count');
  }

  /** Bytes taken and not yet given back. */
  get heldBytes(): number {
    return this.takenBytes;
  }

  /** Takes `bytes` if they fit now; false (and nothing taken) if they do not. */
  tryTake(bytes: number): boolean {
    if (this.takenBytes + bytes > this.bytesMax) return false;
    this.takenBytes += bytes;
    return true;
  }

  /** Gives back `bytes` taken earlier. */
  give(bytes: number): void {
    if (bytes > this.takenBytes) assert.fail(`giving back ${bytes} bytes of a budget holding ${this.takenBytes}`);
    this.takenBytes -= bytes;
  }
}
