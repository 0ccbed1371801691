/**
 * How POP3 replies look on the wire (RFC 1939 §3): single lines `+OK ...` / `-ERR ...`, and
 * multi-line replies whose lines end in CRLF, with a leading "." doubled (dot-stuffing) and a
 * final line holding a lone ".".
 */

const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');

export function ok(text = ''): Buffer {
  return Buffer.from(text === '' ? '+OK\r\n' : `+OK ${text}\r\n`);
}

/** `code` is an RFC 2449 §8 response code such as AUTH or IN-USE. */
export function err(text: string, code?: string): Buffer {
  return Buffer.from(code === undefined ? `-ERR ${text}\r\n` : `-ERR [${code}] ${text}\r\n`);
}

/** A multi-line reply from lines of text (CAPA, LIST, UIDL). */
export function multiLine(first: Buffer, lines: readonly string[]): Buffer {
  return Buffer.concat([first, ...lines.map((l) => Buffer.from(`${l.startsWith('.') ? '.' : ''}${l}\r\n`)), TERMINATOR]);
}

/**
 * A message as a multi-line reply body: every line end made CRLF (a bare LF or CR too), each
 * line starting with "." given another, and the terminator. With `bodyLinesMax` (TOP), only
 * the header, the blank line and that many body lines.
 */
export function stuffMessage(message: Buffer, bodyLinesMax?: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  let inBody = false;
  let bodyLines = 0;
  while (start < message.length) {
    if (inBody && bodyLinesMax !== undefined && bodyLines >= bodyLinesMax) break;
    let end = start;
    while (end < message.length && message[end] !== 0x0a && message[end] !== 0x0d) end++;
    const line = message.subarray(start, end);
    if (line.length > 0 && line[0] === 0x2e) out.push(Buffer.from('.'));
    out.push(line, CRLF);
    if (inBody) bodyLines++;
    else if (line.length === 0) inBody = true;
    // A CRLF pair, a bare CR or a bare LF each end one line.
    if (end < message.length && message[end] === 0x0d && message[end + 1] === 0x0a) start = end + 2;
    else start = end + 1;
  }
  out.push(TERMINATOR);
  return out;
}

/** The size of a message as it goes over POP3: line ends counted as CRLF, before stuffing. */
export { wireSize } from '../services/mime/wire-size.js';
