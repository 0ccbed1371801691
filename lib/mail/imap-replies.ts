/**
 * How IMAP data looks on the wire (RFC 3501 §4, §9): atoms, quoted strings, literals, NIL,
 * parenthesised lists, and the dates of INTERNALDATE. Values are built as Buffers because a
 * literal carries raw octets (8-bit headers, message bodies).
 */

/** Longest string sent quoted; longer ones, or ones with line ends or 8-bit octets, go as literals. */
const QUOTED_BYTES_MAX = 1024;

/** A string or nstring: quoted when it can be, else a literal; null is NIL. */
export function imapString(value: Buffer | string | null): Buffer {
  if (value === null) return Buffer.from('NIL');
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length <= QUOTED_BYTES_MAX && bytes.every((b) => b >= 0x20 && b <= 0x7e)) {
    return Buffer.from(`"${bytes.toString('latin1').replace(/(["\\])/g, '\\$1')}"`, 'latin1');
  }
  return literal(bytes);
}

/** `{n}` CRLF and the octets. */
export function literal(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`), bytes]);
}

/** A parenthesised list of items already in wire form; an empty list is NIL when `nilWhenEmpty`. */
export function imapList(items: readonly Buffer[], nilWhenEmpty = false): Buffer {
  if (items.length === 0) return Buffer.from(nilWhenEmpty ? 'NIL' : '()');
  const out: Buffer[] = [Buffer.from('(')];
  items.forEach((item, i) => {
    if (i > 0) out.push(Buffer.from(' '));
    out.push(item);
  });
  out.push(Buffer.from(')'));
  return Buffer.concat(out);
}

export function atom(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3501 §9 date-time, in UTC: "07-Dec-2026 23:17:41 +0000". */
export function internalDate(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** Parses RFC 3501 date-time ("7-Dec-2026 23:17:41 +0100"); null when it is not one. */
export function parseDateTime(text: string): number | null {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (m === null) return null;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  if (month === -1) return null;
  const offsetMin = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offsetMin * 60_000;
}

/** Parses RFC 3501 date ("1-Feb-1994") as midnight UTC; null when it is not one. */
export function parseDate(text: string): number | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (m === null) return null;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase());
  if (month === -1) return null;
  return Date.UTC(Number(m[3]), month, Number(m[1]));
}
