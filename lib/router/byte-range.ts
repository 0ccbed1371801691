/**
 * The `Range` request header for a single byte range (RFC 9110 §14.1.2 and §14.2). PennCloud
 * serves one range per request; a request for several ranges is answered with the whole
 * representation, which §14.2 allows.
 */

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export type RangeResult =
  | { kind: 'none' }
  | { kind: 'range'; range: ByteRange }
  | { kind: 'unsatisfiable' };

const DIGITS = /^\d{1,15}$/;

/**
 * Interprets a `Range` header against a representation of `size` bytes. A header that is
 * absent, not in the bytes unit, malformed, or asks for several ranges gives 'none' (serve the
 * whole thing, §14.2); a well-formed range that lies outside the body gives 'unsatisfiable'
 * (416).
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'none' };
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'none' };
  const spec = header.slice(eq + 1).trim();
  if (spec.includes(',')) return { kind: 'none' };
  const dash = spec.indexOf('-');
  if (dash === -1) return { kind: 'none' };
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();
  if (first === '') {
    // suffix-byte-range-spec: the last N bytes.
    if (!DIGITS.test(last)) return { kind: 'none' };
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  if (!DIGITS.test(first) || (last !== '' && !DIGITS.test(last))) return { kind: 'none' };
  const start = Number(first);
  // §14.1.2: a last-pos below first-pos makes the range invalid (ignored), not unsatisfiable.
  if (last !== '' && Number(last) < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Number(last);
  return { kind: 'range', range: { start, end: Math.min(end, size - 1) } };
}

/** The `Content-Range` value of a 206 reply. */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

/** The `Content-Range` value of a 416 reply (§15.5.17). */
export function unsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}
