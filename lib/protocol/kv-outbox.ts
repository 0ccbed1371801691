/**
 * Coalesces the frames produced in one turn of the event loop into a single socket write:
 * small frames are joined into one buffer; large parts (values) are written as they are.
 */
import type { Socket } from 'node:net';

/** Parts up to this size are copied into the joined buffer; larger ones go out as they are. */
const JOIN_PART_BYTES_MAX = 64 * 1024;

export class KvOutbox {
  private parts: Buffer[] = [];
  private scheduled = false;

  constructor(private readonly socket: Socket) {}

  /** Queues a frame; everything queued in this turn leaves on the next tick. */
  push(frame: readonly Buffer[]): void {
    for (const p of frame) this.parts.push(p);
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Writes everything queued now (before closing the socket). */
  flush(): void {
    this.scheduled = false;
    const parts = this.parts;
    this.parts = [];
    if (this.socket.destroyed || parts.length === 0) return;
    let small: Buffer[] = [];
    this.socket.cork();
    for (const p of parts) {
      if (p.length <= JOIN_PART_BYTES_MAX) {
        small.push(p);
        continue;
      }
      if (small.length > 0) this.socket.write(small.length === 1 ? small[0]! : Buffer.concat(small));
      small = [];
      this.socket.write(p);
    }
    if (small.length > 0) this.socket.write(small.length === 1 ? small[0]! : Buffer.concat(small));
    this.socket.uncork();
  }
}
