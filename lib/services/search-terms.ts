/**
 * The words search sees in a text: lower case, accents folded ("Résumé" is "resume"), split at
 * anything that is not a letter or digit. A run that mixes letters and digits is a word and so
 * is each of its parts ("Q3report" is "q3report", "q", "3" and "report"), so "report" and
 * "q3rep" both find it. Names and headers are indexed by every prefix of their words, so a
 * search for "rep" finds "Report.pdf"; long texts (mail bodies) by whole words only. A query's
 * words are its runs, unsplit.
 */

/** Shortest prefix indexed (one letter would name half of everything). */
export const PREFIX_CHARS_MIN = 2;
/** Longest prefix indexed: a longer query word is looked up by its first this-many characters and checked in full. */
export const PREFIX_CHARS_MAX = 16;
/** Longest word kept (longer runs are not words: hashes, base64). */
export const WORD_CHARS_MAX = 40;

const WORD = /[\p{L}\p{N}]+/gu;
const LETTERS_DIGITS = /\p{L}+|\p{N}+/gu;

/** The words of `text` as it is indexed: each run and, where it mixes letters and digits, its parts. */
export function wordsOf(text: string): string[] {
  const out: string[] = [];
  for (const run of runsOf(text)) {
    out.push(run);
    const parts = run.match(LETTERS_DIGITS) ?? [];
    if (parts.length > 1) out.push(...parts);
  }
  return out;
}

/** The words of a query: its runs of letters and digits, folded, unsplit. */
export function queryWordsOf(text: string): string[] {
  return runsOf(text);
}

function runsOf(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  return (folded.match(WORD) ?? []).filter((run) => run.length <= WORD_CHARS_MAX);
}

/** The prefix terms of `words` (each word's prefixes from PREFIX_CHARS_MIN to PREFIX_CHARS_MAX characters, and short words whole). */
export function prefixTerms(words: readonly string[]): Set<string> {
  const terms = new Set<string>();
  for (const word of words) {
    if (word.length < PREFIX_CHARS_MIN) {
      terms.add(word);
      continue;
    }
    for (let n = PREFIX_CHARS_MIN; n <= Math.min(word.length, PREFIX_CHARS_MAX); n++) terms.add(word.slice(0, n));
  }
  return terms;
}

/** The term a query word is looked up by in a prefix index. */
export function prefixLookupTerm(word: string): string {
  return word.slice(0, PREFIX_CHARS_MAX);
}

/** True when every query word starts some word of `words`. */
export function matchesPrefixes(queryWords: readonly string[], words: readonly string[]): boolean {
  return queryWords.every((q) => words.some((w) => w.startsWith(q)));
}
