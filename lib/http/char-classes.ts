/**
 * Byte classes of the HTTP/1.1 grammar as 256-entry lookup tables, so the parsers test a byte
 * with one array read instead of a chain of comparisons.
 */

function table(accept: (byte: number) => boolean): Uint8Array {
  const out = new Uint8Array(256);
  for (let b = 0; b < 256; b++) out[b] = accept(b) ? 1 : 0;
  return out;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** token characters (RFC 9110 §5.6.2): method names and field names. */
export const TCHAR = table((b) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
  || TCHAR_SYMBOLS.includes(String.fromCharCode(b)));

/**
 * Bytes allowed in a request-target: visible ASCII (RFC 9112 §3.2, RFC 3986). Anything else,
 * including obs-text, is refused rather than guessed at.
 */
export const TARGET_CHAR = table((b) => b >= 0x21 && b <= 0x7e);

/** field-vchar, SP and HTAB (RFC 9110 §5.5): every byte a field value may hold. */
export const FIELD_VALUE_CHAR = table((b) => b === 0x09 || b === 0x20 || (b >= 0x21 && b <= 0x7e)
  || b >= 0x80);

/** Value of a hex digit, or -1 (RFC 9112 §7.1: chunk-size is 1*HEXDIG). */
export const HEX_VALUE = (() => {
  const out = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) out[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    out[0x41 + d] = 10 + d;
    out[0x61 + d] = 10 + d;
  }
  return out;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/** The bytes [start, end) as a latin1 string (one byte, one char: no decoding surprises). */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as Latin1Slicer).latin1Slice(start, end);
}
