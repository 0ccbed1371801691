/**
 * Where a tablet splits: at the row boundary that divides its bytes most evenly (bytes, not
 * key counts, so a few large values weigh as much as many small ones). Pure.
 */

/** One row of a tablet in key order and its accounted bytes. */
export interface RowWeight {
  row: string;
  bytes: number;
}

/**
 * The first row of the right half: the boundary minimising |left bytes - right bytes|, the
 * earliest on ties. Null when there is no boundary (fewer than two rows).
 */
export function chooseSplitRow(rows: readonly RowWeight[]): string | null {
  if (rows.length < 2) return null;
  let total = 0;
  for (const r of rows) total += r.bytes;
  let left = 0;
  let bestIndex = 1;
  let bestGap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows.length; i++) {
    left += rows[i - 1]!.bytes;
    const gap = Math.abs(total - 2 * left);
    if (gap < bestGap) {
      bestGap = gap;
      bestIndex = i;
    }
  }
  return rows[bestIndex]!.row;
}
