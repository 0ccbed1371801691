/**
 * What a tablet's bytes are, for the memory budget and for splits. The accounting is exact in
 * what it counts: the UTF-8 bytes of every row and column name, the bytes of every value, plus
 * a fixed overhead per cell and per row that stands for the map entries holding them.
 */

/** Counted for every cell (row, column, value): its map entry and Buffer header. */
export const CELL_OVERHEAD_BYTES = 64;

/** Counted for every row: its entry in the row map and its column map. */
export const ROW_OVERHEAD_BYTES = 96;

/** Accounted bytes of one cell, overhead included (row name and row overhead excluded). */
export function cellBytes(columnBytes: number, valueBytes: number): number {
  return columnBytes + valueBytes + CELL_OVERHEAD_BYTES;
}

/** Accounted bytes of a row with no cells: its name and its overhead. */
export function rowBaseBytes(rowBytes: number): number {
  return rowBytes + ROW_OVERHEAD_BYTES;
}
