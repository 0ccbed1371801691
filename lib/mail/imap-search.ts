/**
 * SEARCH (RFC 3501 §6.4.4): search keys parsed into a tree and tested against each message.
 * Keys on flags, sizes, dates and the indexed From/To/Cc/Subject use the listing alone; BODY,
 * TEXT, HEADER and BCC read the message.
 */
import { parseHeaderFields, decodeWords } from '../services/mime/header-fields.js';
import { tokenText, type Token } from './imap-parser.js';
import { parseDate } from './imap-replies.js';
import { inSequenceSet, parseSequenceSet, type SequenceRange } from './imap-sequence.js';
import type { ImapMessage } from './imap-mailstore.js';

export type SearchKey =
  | { kind: 'all' }
  | { kind: 'flag'; flag: string; set: boolean }
  | { kind: 'recent'; set: boolean }
  | { kind: 'new' }
  | { kind: 'address'; field: 'from' | 'to' | 'cc'; text: string }
  | { kind: 'subject'; text: string }
  | { kind: 'header'; name: string; text: string }
  | { kind: 'body' | 'text'; text: string }
  | { kind: 'date'; which: 'internal' | 'sent'; op: 'before' | 'on' | 'since'; dayMs: number }
  | { kind: 'size'; op: 'larger' | 'smaller'; octets: number }
  | { kind: 'seq' | 'uid'; ranges: SequenceRange[] }
  | { kind: 'not'; key: SearchKey }
  | { kind: 'or'; left: SearchKey; right: SearchKey }
  | { kind: 'and'; keys: SearchKey[] };

/** Search keys one command may nest (NOT, OR and parentheses). */
export const SEARCH_DEPTH_MAX = 16;
const DAY_MS = 86_400_000;

export class SearchSyntaxError extends Error {}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  SEEN: ['\\Seen', true], UNSEEN: ['\\Seen', false], ANSWERED: ['\\Answered', true], UNANSWERED: ['\\Answered', false],
  DELETED: ['\\Deleted', true], UNDELETED: ['\\Deleted', false], FLAGGED: ['\\Flagged', true], UNFLAGGED: ['\\Flagged', false],
  DRAFT: ['\\Draft', true], UNDRAFT: ['\\Draft', false],
};
const DATE_KEYS: Record<string, ['internal' | 'sent', 'before' | 'on' | 'since']> = {
  BEFORE: ['internal', 'before'], ON: ['internal', 'on'], SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'], SENTON: ['sent', 'on'], SENTSINCE: ['sent', 'since'],
};

/** Parses the arguments of SEARCH (after an optional CHARSET). */
export function parseSearch(args: readonly Token[]): SearchKey {
  let rest = [...args];
  if (tokenText(rest[0])?.toUpperCase() === 'CHARSET') {
    const charset = tokenText(rest[1])?.toUpperCase();
    if (charset !== 'UTF-8' && charset !== 'US-ASCII') throw new SearchSyntaxError('[BADCHARSET (UTF-8 US-ASCII)] only UTF-8 and US-ASCII are supported');
    rest = rest.slice(2);
  }
  if (rest.length === 0) throw new SearchSyntaxError('SEARCH needs at least one search key');
  const reader = { tokens: rest, pos: 0 };
  const keys: SearchKey[] = [];
  while (reader.pos < reader.tokens.length) keys.push(readKey(reader, 0));
  return keys.length === 1 ? keys[0]! : { kind: 'and', keys };
}

function readKey(r: { tokens: Token[]; pos: number }, depth: number): SearchKey {
  if (depth > SEARCH_DEPTH_MAX) throw new SearchSyntaxError(`search keys nest at most ${SEARCH_DEPTH_MAX} deep`);
  const token = r.tokens[r.pos++];
  if (token === undefined) throw new SearchSyntaxError('a search key is missing');
  if (token.kind === 'list') {
    const inner = { tokens: token.items, pos: 0 };
    const keys: SearchKey[] = [];
    while (inner.pos < inner.tokens.length) keys.push(readKey(inner, depth + 1));
    if (keys.length === 0) throw new SearchSyntaxError('an empty search key list');
    return { kind: 'and', keys };
  }
  const word = tokenText(token)!;
  const name = word.toUpperCase();
  const arg = (): string => {
    const value = tokenText(r.tokens[r.pos++]);
    if (value === null) throw new SearchSyntaxError(`${name} needs an argument`);
    return value;
  };
  if (name === 'ALL') return { kind: 'all' };
  if (FLAG_KEYS[name] !== undefined) return { kind: 'flag', flag: FLAG_KEYS[name]![0], set: FLAG_KEYS[name]![1] };
  if (name === 'KEYWORD' || name === 'UNKEYWORD') return { kind: 'flag', flag: arg(), set: name === 'KEYWORD' };
  if (name === 'RECENT' || name === 'OLD') return { kind: 'recent', set: name === 'RECENT' };
  if (name === 'NEW') return { kind: 'new' };
  if (name === 'FROM' || name === 'TO' || name === 'CC') return { kind: 'address', field: name.toLowerCase() as 'from', text: arg() };
  if (name === 'BCC') return { kind: 'header', name: 'bcc', text: arg() };
  if (name === 'SUBJECT') return { kind: 'subject', text: arg() };
  if (name === 'HEADER') {
    const field = arg().toLowerCase();
    return { kind: 'header', name: field, text: arg() };
  }
  if (name === 'BODY' || name === 'TEXT') return { kind: name.toLowerCase() as 'body', text: arg() };
  if (DATE_KEYS[name] !== undefined) {
    const text = arg();
    const dayMs = parseDate(text);
    if (dayMs === null) throw new SearchSyntaxError(`${name} needs a date such as 1-Feb-2026, not "${text.slice(0, 40)}"`);
    return { kind: 'date', which: DATE_KEYS[name]![0], op: DATE_KEYS[name]![1], dayMs };
  }
  if (name === 'LARGER' || name === 'SMALLER') {
    const text = arg();
    if (!/^\d{1,10}$/.test(text)) throw new SearchSyntaxError(`${name} needs a number of octets`);
    return { kind: 'size', op: name.toLowerCase() as 'larger', octets: Number(text) };
  }
  if (name === 'UID') return { kind: 'uid', ranges: parseSequenceSet(arg()) };
  if (name === 'NOT') return { kind: 'not', key: readKey(r, depth + 1) };
  if (name === 'OR') {
    const left = readKey(r, depth + 1);
    return { kind: 'or', left, right: readKey(r, depth + 1) };
  }
  if (/^[\d*:,]+$/.test(word)) return { kind: 'seq', ranges: parseSequenceSet(word) };
  throw new SearchSyntaxError(`"${word.slice(0, 40)}" is not a search key`);
}

/** True when testing `key` needs the message's octets. */
export function searchNeedsBytes(key: SearchKey): boolean {
  switch (key.kind) {
    case 'header': case 'body': case 'text': return true;
    case 'not': return searchNeedsBytes(key.key);
    case 'or': return searchNeedsBytes(key.left) || searchNeedsBytes(key.right);
    case 'and': return key.keys.some(searchNeedsBytes);
    default: return false;
  }
}

export interface SearchSubject {
  message: ImapMessage;
  seq: number;
  recent: boolean;
  /** The message's octets when searchNeedsBytes. */
  raw: Buffer | null;
  largestSeq: number;
  largestUid: number;
}

/** Whether one message matches. Text is matched as a case-insensitive substring (RFC 3501 §6.4.4). */
export function matches(key: SearchKey, s: SearchSubject): boolean {
  const m = s.message;
  switch (key.kind) {
    case 'all': return true;
    case 'flag': return (key.flag.toLowerCase() === '\\seen' ? m.seen : m.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase())) === key.set;
    case 'recent': return s.recent === key.set;
    case 'new': return s.recent && !m.seen;
    case 'address': return m[key.field].some((a) => contains(`${a.name} <${a.address}>`, key.text));
    case 'subject': return contains(m.subject, key.text);
    case 'header': return headerValues(s.raw!, key.name).some((v) => contains(v, key.text));
    case 'body': return contains(bodyText(s.raw!), key.text);
    case 'text': return contains(s.raw!.toString('utf8'), key.text);
    case 'date': {
      const day = Math.floor((key.which === 'internal' ? m.arrivedMs : m.dateMs) / DAY_MS) * DAY_MS;
      return key.op === 'before' ? day < key.dayMs : key.op === 'on' ? day === key.dayMs : day >= key.dayMs;
    }
    case 'size': return key.op === 'larger' ? m.size > key.octets : m.size < key.octets;
    case 'seq': return inSequenceSet(key.ranges, s.seq, s.largestSeq);
    case 'uid': return inSequenceSet(key.ranges, m.uid, s.largestUid);
    case 'not': return !matches(key.key, s);
    case 'or': return matches(key.left, s) || matches(key.right, s);
    case 'and': return key.keys.every((k) => matches(k, s));
  }
}

function contains(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

function headerValues(raw: Buffer, name: string): string[] {
  const end = raw.indexOf('\r\n\r\n');
  const fields = parseHeaderFields(end === -1 ? raw : raw.subarray(0, end + 2));
  // RFC 3501 §6.4.4: HEADER with an empty string matches every message that has the field.
  return fields.filter((f) => f.name === name).map((f) => decodeWords(f.value));
}

function bodyText(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return end === -1 ? '' : raw.subarray(end + 4).toString('utf8');
}
