/**
 * Message header fields (RFC 5322 §2.2): splitting head from body, unfolding, encoded words
 * (RFC 2047) and parameters of structured fields (RFC 2045 §5.1, with RFC 2231 continuations
 * and charsets). Pure functions over bytes and strings.
 */

export interface HeaderField {
  /** Lower-cased name. */
  name: string;
  /** Unfolded raw value (encoded words still encoded). */
  value: string;
}

/** Where the header section ends and the body starts (after the first empty line). */
export function splitHeadAndBody(message: Buffer): { head: Buffer; body: Buffer } {
  for (let i = 0; i < message.length; i++) {
    if (message[i] !== 0x0a) continue;
    // An empty line: LF LF or LF CR LF.
    if (message[i + 1] === 0x0a) return { head: message.subarray(0, i + 1), body: message.subarray(i + 2) };
    if (message[i + 1] === 0x0d && message[i + 2] === 0x0a) return { head: message.subarray(0, i + 1), body: message.subarray(i + 3) };
  }
  // Only a header section; or a body with no header (a message starting with an empty line).
  if (message[0] === 0x0a) return { head: Buffer.alloc(0), body: message.subarray(1) };
  if (message[0] === 0x0d && message[1] === 0x0a) return { head: Buffer.alloc(0), body: message.subarray(2) };
  return { head: message, body: Buffer.alloc(0) };
}

/** Parses a header section into fields, unfolding continuation lines (RFC 5322 §2.2.3). */
export function parseHeaderFields(head: Buffer): HeaderField[] {
  // latin1 keeps every byte; raw 8-bit (UTF-8) header values are re-decoded in decodeWords.
  const lines = head.toString('latin1').split(/\r?\n/);
  const fields: HeaderField[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && fields.length > 0) {
      fields[fields.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}

/** Decodes bytes in a named charset; unknown charsets fall back to UTF-8 (never throws). */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase();
  try {
    return new TextDecoder(label === 'us-ascii' || label === 'ascii' ? 'utf-8' : label).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/**
 * A header value read byte for byte (latin1) with its raw 8-bit bytes taken as UTF-8 (RFC 6532
 * §3.2); a value already decoded (a character past U+00FF) or not valid UTF-8 is kept.
 */
export function rawUtf8(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  const utf8 = Buffer.from(value, 'latin1').toString('utf8');
  return utf8.includes('\ufffd') ? value : utf8;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/**
 * Decodes RFC 2047 encoded words in an unstructured value; white space between two adjacent
 * encoded words is dropped (§6.2). Raw 8-bit bytes are taken as UTF-8 (RFC 6532).
 */
export function decodeWords(value: string): string {
  return rawUtf8(value)
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?)/g, '$1')
    .replace(ENCODED_WORD, (_m, charset: string, encoding: string, text: string) => {
      const language = charset.indexOf('*');
      const cs = language === -1 ? charset : charset.slice(0, language);
      const bytes = encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return decodeCharset(bytes, cs);
    });
}

export interface StructuredValue {
  /** The part before the first ";", lower-cased (e.g. "multipart/mixed", "attachment"). */
  value: string;
  /** Parameters by lower-cased name, decoded (RFC 2231 continuations joined). */
  params: Map<string, string>;
  /** Names of the parameters written in RFC 2231 form: already decoded, never to be decoded again. */
  extended: Set<string>;
}

/**
 * A parameter's text for display: an RFC 2231 value as parseStructured decoded it; a plain one
 * with RFC 2047 words decoded (mail programs write `filename="=?utf-8?...?="`, RFC 2047 §5 aside).
 * Decoding an RFC 2231 value a second time would turn a name such as "Ã©" into "é".
 */
export function displayParam(field: StructuredValue, name: string): string | undefined {
  const value = field.params.get(name);
  if (value === undefined) return undefined;
  return field.extended.has(name) ? value : decodeWords(value);
}

/** Parses `type/subtype; a=b; c="d e"` with RFC 2231 `name*0*=utf-8''...` forms. */
export function parseStructured(field: string | undefined): StructuredValue {
  if (field === undefined) return { value: '', params: new Map(), extended: new Set() };
  const parts = splitParams(field);
  const value = (parts.shift() ?? '').trim().toLowerCase();
  const simple = new Map<string, string>();
  const extended = new Map<string, Array<{ index: number; text: string; encoded: boolean }>>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    let text = part.slice(eq + 1).trim();
    if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) text = text.slice(1, -1).replace(/\\(.)/g, '$1');
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(key);
    if (m === null) continue;
    const [, name, index, star] = m;
    if (index === undefined && star === undefined) {
      simple.set(name!, text);
      continue;
    }
    const list = extended.get(name!) ?? [];
    list.push({ index: Number(index ?? 0), text, encoded: star !== undefined });
    extended.set(name!, list);
  }
  const params = new Map(simple);
  for (const [name, pieces] of extended) {
    pieces.sort((a, b) => a.index - b.index);
    let charset = 'utf-8';
    const bytes: Buffer[] = [];
    pieces.forEach((p, i) => {
      let text = p.text;
      if (i === 0 && p.encoded) {
        const q = /^([^']*)'[^']*'(.*)$/.exec(text);
        if (q) {
          charset = q[1] || 'utf-8';
          text = q[2]!;
        }
      }
      bytes.push(p.encoded ? Buffer.from(text.replace(/%([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1') : Buffer.from(text, 'latin1'));
    });
    params.set(name, decodeCharset(Buffer.concat(bytes), charset));
  }
  return { value, params, extended: new Set(extended.keys()) };
}

/** Splits at ";" outside double quotes. */
function splitParams(field: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c === '\\' && quoted && i + 1 < field.length) {
      current += c + field[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  out.push(current);
  return out;
}
