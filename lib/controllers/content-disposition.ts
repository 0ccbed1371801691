/**
 * The `Content-Disposition` header of a download (RFC 6266): a plain `filename` for old
 * clients, with anything outside printable ASCII replaced, and `filename*` (RFC 8187) with the
 * exact name in UTF-8.
 */

/** RFC 8187 §3.2.1 attr-char: what may appear unencoded in an ext-value. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** `attachment` (save) or `inline` (show) with both filename forms. */
export function contentDisposition(kind: 'attachment' | 'inline', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  let encoded = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    encoded += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
