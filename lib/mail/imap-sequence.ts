/**
 * Sequence sets (RFC 3501 §9 sequence-set): "1:4,7,9:*" of message numbers or of UIDs, with
 * "*" the largest number in use. A range is taken either way round (4:1 is 1:4).
 */

/** Ranges in one set; a client that names more lists the numbers it means differently. */
export const SEQUENCE_RANGES_MAX = 1000;

export interface SequenceRange {
  /** null stands for "*". */
  low: number | null;
  high: number | null;
}

export class SequenceSyntaxError extends Error {}

export function parseSequenceSet(text: string | null): SequenceRange[] {
  if (text === null || !/^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(text)) {
    throw new SequenceSyntaxError(`"${(text ?? '').slice(0, 60)}" is not a sequence set such as 1:5,7 or 3:*`);
  }
  const pieces = text.split(',');
  if (pieces.length > SEQUENCE_RANGES_MAX) throw new SequenceSyntaxError(`at most ${SEQUENCE_RANGES_MAX} ranges in one set`);
  return pieces.map((piece) => {
    const [a, b] = piece.split(':');
    const value = (v: string): number | null => (v === '*' ? null : Number(v));
    const low = value(a!);
    if (low === 0) throw new SequenceSyntaxError('numbers in a sequence set start at 1');
    return { low, high: b === undefined ? low : value(b) };
  });
}

/** True when `n` is in the set, "*" standing for `largest`. */
export function inSequenceSet(ranges: readonly SequenceRange[], n: number, largest: number): boolean {
  for (const r of ranges) {
    const a = r.low ?? largest;
    const b = r.high ?? largest;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}
