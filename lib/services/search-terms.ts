/**
 * The words search sees in a text: lower case, accents folded ("Résumé" is "resume"), split at
 * anything that is not a letter or digit and where letters meet digits ("Q3report" is "q",
 * "3", "report"). Names and headers are indexed by every prefix of their words, so a search for
 * "rep" finds "Report.pdf"; long texts (mail bodies) by whole words only.
 */

/** Shortest prefix indexed (one letter would name half of everything). */
export const PREFIX_CHARS_MIN = 2;
/** Longest prefix indexed: a longer query word is looked up by its first this-many characters and checked in full. */
export const PREFIX_CHARS_MAX = 16;
/** Longest word kept (longer runs are not words: hashes, base64). */
export const WORD_CHARS_MAX = 40;

const WORD = /[\p{L}\p{N}]+/gu;
const LETTERS_DIGITS = /\p{L}+|\p{N}+/gu;

/** The words of `text`, in order, repeats kept. */
export function wordsOf(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const out: string[] = [];
  for (const run of folded.match(WORD) ?? []) {
    for (const word of run.match(LETTERS_DIGITS) ?? []) if (word.length <= WORD_CHARS_MAX) out.push(word);
  }
  return out;
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
