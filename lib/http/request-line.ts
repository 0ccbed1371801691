/**
 * Leaf helpers of the request-line states of the parser (RFC 9112 §3): the line's length
 * limit, the shared strings of common methods, and the HTTP-version check.
 */
import { CR, latin1 } from './char-classes.js';
import { badRequest, ParseError } from './parse-error.js';

/** Bytes of "HTTP/1.1". */
export const VERSION_BYTES = 8;

/**
 * After an inner loop of the request line stopped at j: a request line past its limit is 414,
 * decided at the first byte past the limit (a CR ends the line and does not count).
 */
export function checkLine(j: number, base: number, lineMax: number, stop: number, src: Buffer): number {
  if (j - base > lineMax || (j < stop && j - base === lineMax && src[j] !== CR)) {
    throw new ParseError('URI_TOO_LONG', 'Request line too long');
  }
  return j;
}

/** The common methods as shared strings; others are sliced from the input. */
export function methodName(src: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length === 3 && src[start] === 0x47 && src[start + 1] === 0x45 && src[start + 2] === 0x54) {
    return 'GET';
  }
  if (length === 4 && src[start] === 0x50 && src[start + 1] === 0x4f && src[start + 2] === 0x53
    && src[start + 3] === 0x54) {
    return 'POST';
  }
  return latin1(src, start, end);
}

/** HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); only 1.0 and 1.1 are served. */
export function readVersion(src: Buffer, start: number): '1.0' | '1.1' {
  const ok = src[start] === 0x48 && src[start + 1] === 0x54 && src[start + 2] === 0x54
    && src[start + 3] === 0x50 && src[start + 4] === 0x2f && src[start + 6] === 0x2e
    && src[start + 8] === CR;
  const major = src[start + 5]! - 0x30;
  const minor = src[start + 7]! - 0x30;
  if (!ok || major < 0 || major > 9 || minor < 0 || minor > 9) {
    throw badRequest('Invalid HTTP version');
  }
  if (major === 1 && minor === 1) return '1.1';
  if (major === 1 && minor === 0) return '1.0';
  // RFC 9110 §15.6.6: 505 for a major version we do not serve; 1.x (x > 1) would be served
  // as 1.1 by the RFC, but no such version exists, so strict mode refuses it too.
  throw new ParseError('NOT_IMPLEMENTED', 'HTTP version not supported', 505);
}
