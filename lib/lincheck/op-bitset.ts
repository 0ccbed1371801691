/**
 * The set of operations already placed on the current search path, as a bitset, and its
 * compact snapshot for the cache: in a long history nearly every operation before the
 * search's window is placed and none after it, so a snapshot grows with the window and
 * the number of `info` operations, not with the history.
 */

/** A fixed-size set of operation indexes with compact snapshots. */
export class OpBitset {
  private readonly words: Uint32Array;
  /** Bits of the operations that are not `info` and past the end: 1 where a gap would count. */
  private readonly definiteMask: Uint32Array;
  /** The `info` operations by their own ordinal, since any of them may stay out forever. */
  private readonly infoWords: Uint32Array;
  private readonly infoOrdinal: Int32Array;
  /** No word before this one is missing a definite operation (kept up to date lazily). */
  private lowHint = 0;
  /** No word from this one on has a member (kept up to date lazily). */
  private highHint = 0;

  /** `isInfo[i]` says whether operation `i` is `info`. */
  constructor(isInfo: readonly boolean[]) {
    const wordCount = Math.ceil(isInfo.length / 32);
    this.words = new Uint32Array(wordCount);
    this.definiteMask = new Uint32Array(wordCount);
    this.infoOrdinal = new Int32Array(isInfo.length).fill(-1);
    let infoCount = 0;
    isInfo.forEach((info, index) => {
      if (info) this.infoOrdinal[index] = infoCount++;
      else this.definiteMask[index >>> 5]! |= 1 << (index & 31);
    });
    this.infoWords = new Uint32Array(Math.ceil(infoCount / 32));
  }

  add(index: number): void {
    this.words[index >>> 5]! |= 1 << (index & 31);
    this.highHint = Math.max(this.highHint, (index >>> 5) + 1);
    const ordinal = this.infoOrdinal[index]!;
    if (ordinal !== -1) this.infoWords[ordinal >>> 5]! |= 1 << (ordinal & 31);
  }

  remove(index: number): void {
    this.words[index >>> 5]! &= ~(1 << (index & 31));
    this.lowHint = Math.min(this.lowHint, index >>> 5);
    const ordinal = this.infoOrdinal[index]!;
    if (ordinal !== -1) this.infoWords[ordinal >>> 5]! &= ~(1 << (ordinal & 31));
  }

  has(index: number): boolean {
    return (this.words[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  /**
   * The set as a string of 16-bit units, for the cache to key on: the first word `low`
   * still missing an operation with a known outcome, the word `high` after the last member,
   * the `info` bits, then the words from `low` to `high`. Before `low` every definite
   * operation is placed and after `high` none, so equal sets give equal strings and
   * different sets different ones.
   */
  snapshot(): string {
    const words = this.words;
    const mask = this.definiteMask;
    let low = this.lowHint;
    while (low < words.length && ((words[low]! & mask[low]!) >>> 0) === mask[low]) low++;
    let high = Math.max(this.highHint, low);
    while (high > low && words[high - 1] === 0) high--;
    this.lowHint = low;
    this.highHint = high;
    const units: number[] = [low >>> 16, low & 0xffff, high >>> 16, high & 0xffff];
    for (const w of this.infoWords) units.push(w >>> 16, w & 0xffff);
    for (let w = low; w < high; w++) units.push(words[w]! >>> 16, words[w]! & 0xffff);
    return String.fromCharCode(...units);
  }
}
