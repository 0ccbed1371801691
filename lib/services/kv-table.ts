/**
 * The part of the KV client the services use: cells by row and column, compare-and-put, and
 * the columns of a row in pages. `KvClient` (lib/kvclient) satisfies it as it is; the services
 * depend on this narrow shape so that each states what it needs of the store.
 */

/** The outcome of a compare-and-put: done, or refused with the cell's current value. */
export type KvCputResult = { ok: true } | { ok: false; current: Buffer | null };

/** One column of a row, as a listing page gives it. */
export interface KvColumnInfo {
  column: string;
  valueBytes: number;
}

/** The store as the services see it (KvClient has exactly these methods). */
export interface KvTable {
  /** The value of a cell, or null when it does not exist. */
  get(row: string, column: string): Promise<Buffer | null>;
  put(row: string, column: string, value: Buffer): Promise<void>;
  /** Stores `value` only if the cell holds `expected` now; null expects the cell absent. */
  cput(row: string, column: string, expected: Buffer | null, value: Buffer): Promise<KvCputResult>;
  /** Deletes a cell; true when it existed (so exactly one of two racing deletes sees true). */
  delete(row: string, column: string): Promise<boolean>;
  /** Columns of `row` after `after` (exclusive) in key order, at most `limit` of them. */
  listColumns(row: string, options: { after?: string | null; limit?: number }): Promise<{ columns: KvColumnInfo[]; more: boolean }>;
}
