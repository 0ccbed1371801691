/**
 * Copies a response body from a Readable to the socket with backpressure: the source pauses
 * while the socket's buffer is full. Frames it with chunked coding (RFC 9112 §7.1) when the
 * length is unknown, and checks the count when it is known.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { PennError } from '../protocol/errors.js';

/** The connection side of a pump. */
export interface PumpTarget {
  readonly socket: Socket;
  /** Called with a function to run if the connection closes first (null to clear). */
  setAbortListener(listener: (() => void) | null): void;
}

const LAST_CHUNK = '0\r\n\r\n';
const CRLF = '\r\n';

/** Resolves once the whole body is handed to the socket; rejects if either side fails. */
export function pumpBody(
  target: PumpTarget, source: Readable, length: number | undefined, chunked: boolean,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = target.socket;
    let sentBytes = 0;
    let done = false;

    const cleanup = (): void => {
      done = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
      socket.off('drain', onDrain);
      target.setAbortListener(null);
    };
    const fail = (err: Error): void => {
      if (done) return;
      cleanup();
      source.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (bytes.length === 0) return;
      sentBytes += bytes.length;
      if (length !== undefined && sentBytes > length) {
        fail(new PennError('INTERNAL', `response stream longer than its declared ${length} bytes`));
        return;
      }
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(bytes.length.toString(16) + CRLF, 'latin1');
        socket.write(bytes);
        ok = socket.write(CRLF, 'latin1');
        socket.uncork();
      } else {
        ok = socket.write(bytes);
      }
      if (!ok) {
        source.pause();
        socket.once('drain', onDrain);
      }
    };
    const onDrain = (): void => {
      if (!done) source.resume();
    };
    const onEnd = (): void => {
      if (length !== undefined && sentBytes !== length) {
        fail(new PennError('INTERNAL', `response stream gave ${sentBytes} of its declared ${length} bytes`));
        return;
      }
      if (chunked) socket.write(LAST_CHUNK, 'latin1');
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => fail(err);
    const onClose = (): void => fail(new PennError('INTERNAL', 'response stream closed before its end'));

    target.setAbortListener(() => fail(new PennError('UNAVAILABLE', 'The client closed the connection')));
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onClose);
  });
}
