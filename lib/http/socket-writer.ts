/**
 * How a response head and body reach the socket: in one write where that is cheap (one
 * syscall, one packet for a small reply), in a corked pair otherwise. Also the complete reply
 * the server itself sends when it refuses a request (parse errors, head timeout).
 */
import type { Socket } from 'node:net';
import { errorBody } from './error-status.js';
import type { ErrorCode } from '../protocol/errors.js';
import { dateHeaderLine, statusLine } from './response-head.js';

/** Bodies up to this size are copied next to the head: one write, one packet. */
const COALESCE_BYTES_MAX = 16 * 1024;

/** Writes `head` (latin1) and `body`; an ASCII head and a string body go as one string. */
export function writeHeadAndBody(
  socket: Socket, head: string, body: Buffer | string | null, asciiHead: boolean,
): void {
  if (body === null) {
    socket.write(head, 'latin1');
  } else if (typeof body === 'string' && asciiHead) {
    socket.write(head + body, 'utf8');
  } else if (typeof body !== 'string' && body.length <= COALESCE_BYTES_MAX) {
    const wire = Buffer.allocUnsafe(head.length + body.length);
    wire.write(head, 0, 'latin1');
    body.copy(wire, head.length);
    socket.write(wire);
  } else {
    socket.cork();
    socket.write(head, 'latin1');
    socket.write(body);
    socket.uncork();
  }
}

/**
 * A complete JSON error reply that closes the connection (RFC 9112 §9.6); `extraLines` are
 * whole header lines (the server's default fields).
 */
export function finalErrorReply(status: number, code: ErrorCode, message: string, extraLines = ''): string {
  const body = errorBody(code, message);
  return `${statusLine(status)}${dateHeaderLine()}${extraLines}Content-Type: application/json\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
