/**
 * Newline-delimited JSON, the framing of the coordinator's control protocol: one JSON object
 * per line, UTF-8, ending in "\n". The decoder is pure (bytes in, messages out);
 * `readJsonLines` attaches one to a socket.
 */
import type { Socket } from 'node:net';
import { PennError } from './errors.js';

/** Longest line accepted: a tablet map of thousands of tablets still fits. */
export const JSON_LINE_BYTES_MAX = 1024 * 1024;

/** Accumulates bytes and yields each complete line parsed as JSON. */
export class JsonLineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly lineBytesMax = JSON_LINE_BYTES_MAX) {}

  /**
   * Feeds bytes; returns the messages completed by them. Throws PennError BAD_REQUEST on a line
   * that is too long or not a JSON object: the stream cannot be trusted after that.
   */
  push(chunk: Buffer): unknown[] {
    const out: unknown[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      const line = this.pendingBytes === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      this.pendingBytes = 0;
      if (line.length > this.lineBytesMax) throw new PennError('TOO_LARGE', `line of ${line.length} bytes exceeds ${this.lineBytesMax}`);
      if (line.length > 0) out.push(parseLine(line));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.lineBytesMax) throw new PennError('TOO_LARGE', `line longer than ${this.lineBytesMax} bytes`);
      this.pending.push(Buffer.from(rest));
    }
    return out;
  }
}

function parseLine(line: Buffer): unknown {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    throw new PennError('BAD_REQUEST', 'line is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PennError('BAD_REQUEST', 'line is not a JSON object');
  return value;
}

/** One message as a line. */
export function encodeJsonLine(message: unknown): Buffer {
  return Buffer.from(JSON.stringify(message) + '\n', 'utf8');
}

/**
 * Hands every message `socket` receives to `onMessage`. A bad line (too long, not a JSON
 * object) ends the connection, since nothing after it can be trusted; `onBadLine` hears why
 * first (to log it).
 */
export function readJsonLines(socket: Socket, onMessage: (message: unknown) => void, onBadLine?: (err: Error) => void): void {
  const decoder = new JsonLineDecoder();
  socket.on('data', (chunk: Buffer) => {
    let messages: unknown[];
    try {
      messages = decoder.push(chunk);
    } catch (err) {
      onBadLine?.(err as Error);
      socket.destroy();
      return;
    }
    for (const m of messages) onMessage(m);
  });
}
