/**
 * The request body as a Readable with backpressure: the connection pushes slices of what the
 * socket read, and pauses the socket while the stream holds more than its high-water mark.
 */
import { Readable } from 'node:stream';
import { BODY_STREAM_HIGH_WATER_BYTES } from './limits.js';

/** The side that feeds the stream and wants to know when it is read. */
export interface BodySource {
  /** The consumer wants more: resume the socket (and send 100 Continue if it is owed). */
  onBodyWanted(): void;
}

export class BodyStream extends Readable {
  constructor(private readonly source: BodySource | null) {
    super({ highWaterMark: BODY_STREAM_HIGH_WATER_BYTES });
  }

  override _read(): void {
    this.source?.onBodyWanted();
  }

  /**
   * An aborted body only emits 'error' to a consumer that listens for it: a handler that never
   * touched the body must not crash the process because the client went away (as node:http).
   */
  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    callback(err !== null && this.listenerCount('error') > 0 ? err : null);
  }
}

/** A fresh, already ended body for a request without one. */
export function emptyBody(): BodyStream {
  const stream = new BodyStream(null);
  stream.push(null);
  return stream;
}
