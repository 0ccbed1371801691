/**
 * Searching a user's mail by sender, recipients, subject and body text. Each message is in the
 * user's term index under `h:<prefix>` for every word prefix of its From, To, Cc and Subject
 * (so "ann" finds "Annabel" and "ann@penn.test") and `b:<word>` for each distinct whole word of
 * its text body (up to BODY_WORDS_MAX). The key is the message's sort key, so every term row
 * lists newest first. A query word matches a message by header prefix or body word; `from:`,
 * `to:` and `subject:` narrow a word to one header. A search reads the rows of its rarest word
 * merged in key order and checks each candidate: the other words against the summary or the
 * index, the folder against where the message is now.
 */
import { createHash } from 'node:crypto';
import { PennError } from '../protocol/errors.js';
import type { KvTable } from './kv-table.js';
import type { Mailbox } from './mail-index.js';
import { MAIL_FOLDERS, sortKey, type MailFolder, type MessageSummary } from './mail-records.js';
import type { MailAddress } from './mime/address-list.js';
import { prefixLookupTerm, prefixTerms, queryWordsOf, wordsOf } from './search-terms.js';
import { TermIndex } from './term-index.js';

/** Distinct body words indexed per message (the first ones: a long body is found by its start). */
export const BODY_WORDS_MAX = 300;
/** Characters of body text read for words. */
export const BODY_CHARS_INDEXED_MAX = 64 * 1024;
/**
 * Bytes at the start of a message kept while it is stored, for its body words: the text part
 * comes first in nearly all mail. Held once per message being stored.
 */
export const SEARCH_PREFIX_BYTES_MAX = 128 * 1024;
/** Results one page holds at most. */
export const MAIL_SEARCH_PAGE_MAX = 100;
export const MAIL_SEARCH_PAGE_DEFAULT = 50;
/** Index entries one request reads before it answers with what it found (and a cursor). */
export const MAIL_SEARCH_SCAN_MAX = 2_000;
/** Entries read per term row per step of the scan. */
const SCAN_STEP_ENTRIES = 100;
/**
 * Entries counted in each query word's rows to choose the rarest word to scan by: a word with
 * fewer than this many messages is read in one step; beyond it words are told apart by length.
 */
export const DRIVER_PROBE_ENTRIES = 100;
/** Characters of a query, and words in it. */
export const MAIL_QUERY_CHARS_MAX = 256;
export const MAIL_QUERY_WORDS_MAX = 8;

type Field = 'any' | 'from' | 'to' | 'subject';

/** One word of a query and the header it is limited to. */
export interface QueryWord {
  word: string;
  field: Field;
}

/** A checked query. */
export interface MailQuery {
  words: QueryWord[];
  folder: MailFolder | null;
}

/** What a message is indexed by. */
export function messageTerms(summary: Pick<MessageSummary, 'from' | 'to' | 'cc' | 'subject' | 'threadId'>, text: string | null): Set<string> {
  const terms = new Set<string>();
  if (summary.threadId !== undefined) terms.add(threadTerm(summary.threadId));
  for (const t of prefixTerms(headerWords(summary, 'any'))) terms.add(`h:${t}`);
  const body = new Set(wordsOf((text ?? '').slice(0, BODY_CHARS_INDEXED_MAX)));
  let kept = 0;
  for (const word of body) {
    if (kept++ >= BODY_WORDS_MAX) break;
    terms.add(`b:${word}`);
  }
  return terms;
}

/** Parses `from:ann subject:lunch pizza`; BAD_REQUEST names what is wrong. */
export function parseMailQuery(text: unknown, folder: unknown): MailQuery {
  if (typeof text !== 'string' || text.length > MAIL_QUERY_CHARS_MAX) {
    throw badQuery(`q must be text of at most ${MAIL_QUERY_CHARS_MAX} characters`);
  }
  const words: QueryWord[] = [];
  for (const part of text.split(/\s+/).filter((p) => p !== '')) {
    const match = /^(from|to|subject):(.*)$/i.exec(part);
    const field = (match?.[1]?.toLowerCase() ?? 'any') as Field;
    for (const word of queryWordsOf(match?.[2] ?? part)) words.push({ word, field });
  }
  if (words.length === 0) throw badQuery('type a word to search for (letters or digits); from:, to: and subject: narrow it');
  if (words.length > MAIL_QUERY_WORDS_MAX) throw badQuery(`a search has at most ${MAIL_QUERY_WORDS_MAX} words`);
  let checkedFolder: MailFolder | null = null;
  if (folder !== undefined && folder !== null && folder !== '') {
    if (!(MAIL_FOLDERS as readonly unknown[]).includes(folder)) throw badQuery(`folder must be one of ${MAIL_FOLDERS.join(', ')}`);
    checkedFolder = folder as MailFolder;
  }
  return { words, folder: checkedFolder };
}

/** A page of search results, newest first. */
export interface MailSearchPage {
  messages: (MessageSummary & { folder: MailFolder })[];
  nextCursor: string | null;
}

/** The search index of one user's mail. */
export class MailSearch {
  private readonly index: TermIndex;

  constructor(kv: KvTable, private readonly mailbox: Mailbox) {
    this.index = new TermIndex(kv, `mail:${mailbox.user}`);
  }

  /** Enters a message (before it is filed, so the index never misses a live message). */
  async add(summary: MessageSummary, text: string | null): Promise<void> {
    await this.index.add(messageTerms(summary, text), sortKey(summary.arrivedMs, summary.id));
  }

  /** A page of the messages matching `query`, newest first, after `cursor`. */
  async search(query: MailQuery, cursor: string | null, limit: number): Promise<MailSearchPage> {
    const wanted = Math.max(1, Math.min(MAIL_SEARCH_PAGE_MAX, limit));
    const rows = await this.rarestRows(query.words);
    const messages: MailSearchPage['messages'] = [];
    let after = cursor;
    for (let scanned = 0; scanned < MAIL_SEARCH_SCAN_MAX;) {
      const step = await this.mergedKeys(rows, after, SCAN_STEP_ENTRIES);
      scanned += step.keys.length;
      const found = await Promise.all(step.keys.map((key) => this.check(query, key, rows)));
      for (let i = 0; i < step.keys.length; i++) {
        const hit = found[i];
        if (hit) messages.push(hit);
        if (messages.length === wanted) return { messages, nextCursor: i === step.keys.length - 1 && !step.more ? null : step.keys[i]! };
      }
      if (!step.more || step.keys.length === 0) return { messages, nextCursor: null };
      after = step.keys[step.keys.length - 1]!;
    }
    return { messages, nextCursor: after };
  }

  /** The newest `limit` live messages of conversation `threadId`, newest first. */
  async thread(threadId: string, limit: number): Promise<(MessageSummary & { folder: MailFolder })[]> {
    const term = threadTerm(threadId);
    const { keys } = await this.index.keys(term, null, limit);
    const found = await Promise.all(keys.map(async (key) => {
      const id = key.slice(key.indexOf('.') + 1);
      const hit = await this.mailbox.summary(id).catch((err: unknown) => {
        if (err instanceof PennError && err.code === 'NOT_FOUND') return null;
        throw err;
      });
      if (hit === null) await this.index.remove([term], key);
      return hit === null || hit.location.sortKey !== key || hit.summary.threadId !== threadId ? null : { ...hit.summary, folder: hit.location.folder };
    }));
    return found.filter((m): m is MessageSummary & { folder: MailFolder } => m !== null);
  }

  /** The index rows of the query word with the fewest messages (the longest among equals). */
  private async rarestRows(words: QueryWord[]): Promise<string[]> {
    const rowsOf = (w: QueryWord) => [`h:${prefixLookupTerm(w.word)}`, ...(w.field === 'any' ? [`b:${w.word}`] : [])];
    if (words.length === 1) return rowsOf(words[0]!);
    const counts = await Promise.all(words.map(async (w) => {
      const pages = await Promise.all(rowsOf(w).map((row) => this.index.keys(row, null, DRIVER_PROBE_ENTRIES)));
      return Math.min(DRIVER_PROBE_ENTRIES, pages.reduce((n, p) => n + p.keys.length, 0));
    }));
    let best = 0;
    for (let i = 1; i < words.length; i++) {
      if (counts[i]! < counts[best]! || (counts[i] === counts[best] && words[i]!.word.length > words[best]!.word.length)) best = i;
    }
    return rowsOf(words[best]!);
  }

  /** The next keys after `after` of the union of `rows`, in key order (newest first). */
  private async mergedKeys(rows: string[], after: string | null, limit: number): Promise<{ keys: string[]; more: boolean }> {
    const pages = await Promise.all(rows.map((row) => this.index.keys(row, after, limit)));
    const merged = [...new Set(pages.flatMap((p) => p.keys))].sort();
    // A row that stopped early bounds how far the union is known to be complete.
    let bound: string | null = null;
    for (const page of pages) {
      if (page.more && page.keys.length > 0) {
        const last = page.keys[page.keys.length - 1]!;
        if (bound === null || last < bound) bound = last;
      }
    }
    const keys = bound === null ? merged : merged.filter((k) => k <= bound!);
    return { keys, more: bound !== null };
  }

  /** The message of index key `key` if it is live and answers `query`; stale keys are tidied. */
  private async check(query: MailQuery, key: string, rows: string[]): Promise<(MessageSummary & { folder: MailFolder }) | null> {
    const id = key.slice(key.indexOf('.') + 1);
    const found = await this.mailbox.summary(id).catch((err: unknown) => {
      if (err instanceof PennError && err.code === 'NOT_FOUND') return null;
      throw err;
    });
    if (found === null || found.location.sortKey !== key) {
      if (found === null) await this.index.remove(rows, key);
      return null;
    }
    if (query.folder !== null && found.location.folder !== query.folder) return null;
    for (const { word, field } of query.words) {
      if (headerWords(found.summary, field).some((w) => w.startsWith(word))) continue;
      if (field === 'any' && await this.index.has(`b:${word}`, key)) continue;
      return null;
    }
    return { ...found.summary, folder: found.location.folder };
  }
}

/** The words of a message's headers that `field` searches. */
function headerWords(summary: Pick<MessageSummary, 'from' | 'to' | 'cc' | 'subject'>, field: Field): string[] {
  const people = (list: MailAddress[]) => list.flatMap((a) => wordsOf(`${a.name ?? ''} ${a.address}`));
  if (field === 'from') return people(summary.from);
  if (field === 'to') return people([...summary.to, ...summary.cc]);
  if (field === 'subject') return wordsOf(summary.subject);
  return [...people(summary.from), ...people(summary.to), ...people(summary.cc), ...wordsOf(summary.subject)];
}

/** The index term of a conversation (a hash: a Message-ID may hold any character). */
function threadTerm(threadId: string): string {
  return `t:${createHash('sha256').update(threadId).digest('base64url').slice(0, 22)}`;
}

function badQuery(message: string): PennError {
  return new PennError('BAD_REQUEST', message, { reason: 'BAD_QUERY' });
}
