/**
 * Finding files and folders anywhere in a drive by name and type. Every node's name is in the
 * volume's term index by word prefixes (search-terms.ts), and its kind as `kind:<kind>`; a
 * search reads the row of its rarest word or kind and
 * checks each candidate's live record: all words match its name, it has the kind, and it is in
 * the tree (not the trash). Results come a page at a time, each with its current path.
 */
import mime from 'mime-types';
import { PennError } from '../protocol/errors.js';
import type { NodeRecord } from './fs-records.js';
import { matchesPrefixes, prefixLookupTerm, prefixTerms, queryWordsOf, wordsOf } from './search-terms.js';
import { TermIndex } from './term-index.js';

/** Results one search page holds at most. */
export const SEARCH_PAGE_MAX = 100;
export const SEARCH_PAGE_DEFAULT = 50;
/** Index entries one request reads before it answers with what it found (and a cursor). */
export const SEARCH_SCAN_ENTRIES_MAX = 2_000;
/** Index entries read per listing while scanning. */
export const SEARCH_SCAN_PAGE_ENTRIES = 200;
/** Characters of a query. */
export const SEARCH_QUERY_CHARS_MAX = 256;

/** What a search can ask for besides words. */
export type NodeKind = 'folder' | 'image' | 'video' | 'audio' | 'pdf' | 'text' | 'other';
export const NODE_KINDS: readonly NodeKind[] = ['folder', 'image', 'video', 'audio', 'pdf', 'text', 'other'];

/** The kind of a node, from its type and name. */
export function kindOf(node: { type: 'file' | 'folder'; name: string }): NodeKind {
  if (node.type === 'folder') return 'folder';
  const type = mime.lookup(node.name) || '';
  if (type === 'application/pdf') return 'pdf';
  const major = type.split('/')[0];
  return major === 'image' || major === 'video' || major === 'audio' || major === 'text' ? major : 'other';
}

/** The terms of a node in its volume's index. */
export function nodeTerms(node: { type: 'file' | 'folder'; name: string }): Set<string> {
  const terms = prefixTerms(wordsOf(node.name));
  terms.add(`kind:${kindOf(node)}`);
  return terms;
}

/** A checked query. */
export interface DriveQuery {
  words: string[];
  kind: NodeKind | null;
}

/** Checks a query's text and type; BAD_REQUEST names what is wrong. */
export function parseDriveQuery(text: unknown, kind: unknown): DriveQuery {
  if (text !== undefined && text !== null && typeof text !== 'string') throw badQuery('q must be text');
  if (typeof text === 'string' && text.length > SEARCH_QUERY_CHARS_MAX) throw badQuery(`a search is at most ${SEARCH_QUERY_CHARS_MAX} characters`);
  const words = typeof text === 'string' ? queryWordsOf(text) : [];
  let checkedKind: NodeKind | null = null;
  if (kind !== undefined && kind !== null && kind !== '') {
    if (!(NODE_KINDS as readonly unknown[]).includes(kind)) throw badQuery(`type must be one of ${NODE_KINDS.join(', ')}`);
    checkedKind = kind as NodeKind;
  }
  if (words.length === 0 && checkedKind === null) throw badQuery('type a word to search for (letters or digits), or choose a type');
  return { words, kind: checkedKind };
}

/**
 * Entries counted in each candidate term's row to choose the rarest one to scan by; beyond it,
 * terms are told apart by length (a longer prefix is rarer).
 */
export const DRIVER_PROBE_ENTRIES = 100;

/** The index term a query is read from: the one of its words (or its kind) with the fewest nodes. */
export async function drivingTerm(index: TermIndex, query: DriveQuery): Promise<string> {
  const terms = [...new Set(query.words.map(prefixLookupTerm)), ...(query.kind === null ? [] : [`kind:${query.kind}`])];
  if (terms.length === 1) return terms[0]!;
  const counts = await Promise.all(terms.map(async (t) => (await index.keys(t, null, DRIVER_PROBE_ENTRIES)).keys.length));
  let best = 0;
  for (let i = 1; i < terms.length; i++) {
    if (counts[i]! < counts[best]! || (counts[i] === counts[best] && terms[i]!.length > terms[best]!.length)) best = i;
  }
  return terms[best]!;
}

/** True when live node `node` answers `query` (its place in the tree is checked apart). */
export function nodeMatches(query: DriveQuery, node: NodeRecord): boolean {
  if (query.kind !== null && kindOf(node) !== query.kind) return false;
  return matchesPrefixes(query.words, wordsOf(node.name));
}

/** The term index of a volume's names. */
export function driveIndex(kv: ConstructorParameters<typeof TermIndex>[0], volume: string): TermIndex {
  return new TermIndex(kv, `names:${volume}`);
}

function badQuery(message: string): PennError {
  return new PennError('BAD_REQUEST', message, { reason: 'BAD_QUERY' });
}
