/**
 * Address lists (RFC 5322 §3.4): `Ann Lee <ann@x.org>, "Lee, Bo" <bo@y>, carl@z` into names and
 * addresses. Groups (`team: a@x, b@y;`) give their members. Comments in parentheses are
 * dropped. Lenient: a piece that is not an address is skipped.
 */
import { decodeWords, rawUtf8 } from './header-fields.js';

export interface MailAddress {
  /** Display name, decoded; "" when there is none. */
  name: string;
  /** The addr-spec, as written (local part case kept, domain lower-cased). */
  address: string;
}

/** Parses an address-list header value. */
export function parseAddressList(value: string | undefined): MailAddress[] {
  if (value === undefined) return [];
  const out: MailAddress[] = [];
  for (const piece of splitTopLevel(stripComments(value))) {
    const trimmed = piece.trim().replace(/^[^<>"]*:\s*/, (m) => (m.includes('@') ? m : '')).replace(/;\s*$/, '');
    if (trimmed === '') continue;
    const angle = /^(.*)<([^<>]+)>\s*$/.exec(trimmed);
    const name = angle ? unquote(angle[1]!.trim()) : '';
    // RFC 6532 §3.2: an internationalised address is raw UTF-8 in the header.
    const address = rawUtf8((angle ? angle[2]! : trimmed).trim());
    if (!/^[^\s@]+@[^\s@]+$/.test(address)) continue;
    const at = address.lastIndexOf('@');
    out.push({ name: decodeWords(name), address: `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}` });
  }
  return out;
}

/** `Name <addr>` or just `addr`, for headers we write. */
export function formatAddress(a: MailAddress): string {
  if (a.name === '') return a.address;
  const safe = /^[\w .'-]*$/.test(a.name) ? a.name : `"${a.name.replace(/(["\\])/g, '\\$1')}"`;
  return `${safe} <${a.address}>`;
}

function unquote(text: string): string {
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) return text.slice(1, -1).replace(/\\(.)/g, '$1');
  return text;
}

function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      if (depth === 0) out += c + value[i + 1];
      i++;
      continue;
    }
    if (c === '"' && depth === 0) quoted = !quoted;
    if (!quoted && c === '(') {
      depth++;
      continue;
    }
    if (!quoted && c === ')' && depth > 0) {
      depth--;
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

/** Splits at commas outside quotes and angle brackets, and at group ends. */
function splitTopLevel(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      current += c + value[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && c === '<') angle++;
    if (!quoted && c === '>' && angle > 0) angle--;
    if (!quoted && angle === 0 && (c === ',' || c === ';')) {
      out.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  out.push(current);
  return out;
}
