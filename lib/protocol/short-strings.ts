/**
 * The short strings that every frame and log record carries: keys in UTF-8, and client ids
 * (8 bytes, 16 hex digits). Keys are mostly short and ASCII: measured, scanned and copied a
 * byte at a time in JavaScript they skip a call into the runtime each (about a tenth of a
 * microsecond), which a replicated write paid a dozen times. Anything longer or not ASCII
 * takes Buffer's own paths.
 */
import { isUtf8 } from 'node:buffer';

/** Strings up to this many characters are scanned for the ASCII paths. */
const SHORT_CHARS = 64;
/** ASCII keys up to this long are built a character at a time (V8 keeps them flat). */
const BUILT_CHARS = 12;

/** UTF-8 length of `s`. */
export function utf8Length(s: string): number {
  if (s.length > SHORT_CHARS) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** Writes `s`, whose UTF-8 length is `bytes`, at `pos` of `buf`; returns the position after it. */
export function writeUtf8(buf: Buffer, pos: number, s: string, bytes: number): number {
  if (bytes === s.length && bytes <= SHORT_CHARS) {
    for (let i = 0; i < bytes; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + bytes;
  }
  return pos + buf.write(s, pos, 'utf8');
}

/** The bytes of `buf` from `start` to `end` as a string, or null when they are not UTF-8. */
export function readUtf8(buf: Buffer, start: number, end: number): string | null {
  if (end - start <= SHORT_CHARS) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      if (end - start > BUILT_CHARS) return buf.toString('latin1', start, end);
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
      return s;
    }
  }
  const bytes = buf.subarray(start, end);
  return isUtf8(bytes) ? bytes.toString('utf8') : null;
}

/** Value of each hex digit by character code; -1 for any other character. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[0x41 + i] = 10 + i;
  HEX_VALUE[0x61 + i] = 10 + i;
}

/** The value of the hex digit with character code `code`, or -1. */
function hexValue(code: number): number {
  return code < 128 ? HEX_VALUE[code]! : -1;
}

/** Two hex digits per byte value. */
const HEX_PAIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The 8-byte client id at `pos` as 16 hex digits. */
export function readClientId(p: Buffer, pos: number): string {
  return HEX_PAIRS[p[pos]!]! + HEX_PAIRS[p[pos + 1]!]! + HEX_PAIRS[p[pos + 2]!]! + HEX_PAIRS[p[pos + 3]!]!
    + HEX_PAIRS[p[pos + 4]!]! + HEX_PAIRS[p[pos + 5]!]! + HEX_PAIRS[p[pos + 6]!]! + HEX_PAIRS[p[pos + 7]!]!;
}

/** The 8-byte client id from its 16 hex digits (a shorter id is padded with zeros). */
export function writeClientId(buf: Buffer, pos: number, clientId: string): void {
  if (clientId.length === 16) {
    let i = 0;
    for (; i < 8; i++) {
      const high = hexValue(clientId.charCodeAt(2 * i));
      const low = hexValue(clientId.charCodeAt(2 * i + 1));
      if (high < 0 || low < 0) break;
      buf[pos + i] = (high << 4) | low;
    }
    if (i === 8) return;
  }
  buf.write(clientId.padEnd(16, '0'), pos, 8, 'hex');
}
