/**
 * One tablet in memory: the rows of a key range [start, end), each a map of columns to values,
 * with its accounted bytes kept exact on every change. Synchronous and free of I/O: a value may
 * be one kept in the log (logged-value.ts), which the caller reads.
 *
 * Two sizes are kept. `bytes` counts every value whole, wherever it lies: the tablet's size,
 * which splits go by and a checkpoint header records. `residentBytes` counts a logged value as
 * its reference: what the tablet holds in memory, which the memory budget goes by.
 */
import assert from 'node:assert/strict';
import { keyBytes, type KvColumnEntry } from '../protocol/kv-wire.js';
import { LOGGED_VALUE_RESIDENT_BYTES, LoggedValue, countLoggedBytes, type StoredValue } from './logged-value.js';
import { cellBytes, rowBaseBytes } from './memory-accounting.js';
import { ownedValue } from './owned-value.js';
import type { RowWeight } from './split-point.js';

interface Row {
  columns: Map<string, StoredValue>;
  /** Accounted bytes of this row: name, overhead and every cell. */
  bytes: number;
}

/** What a stored value adds to a tablet's resident bytes beyond its cell's keys and overhead. */
function residentValueBytes(value: StoredValue): number {
  return value instanceof LoggedValue ? LOGGED_VALUE_RESIDENT_BYTES : value.length;
}

/** A row-key range: `start` inclusive, `end` exclusive (null: to the end of the key space). */
export interface TabletRange {
  start: string;
  end: string | null;
}

/** Whether `row` falls in the range. Keys compare as JavaScript strings (UTF-16 code units). */
export function rangeContains(range: TabletRange, row: string): boolean {
  return row >= range.start && (range.end === null || row < range.end);
}

export class Tablet implements TabletRange {
  private readonly rows = new Map<string, Row>();
  /** Row names in key order; null when a row was added or removed since the last sort. */
  private sorted: string[] | null = [];
  bytes = 0;
  residentBytes = 0;
  /** Per log segment (its first seq): bytes of the logged values of this tablet lying in it. */
  readonly loggedBytes = new Map<number, number>();

  constructor(public start: string, public end: string | null) {}

  get rowCount(): number {
    return this.rows.size;
  }

  contains(row: string): boolean {
    return rangeContains(this, row);
  }

  get(row: string, column: string): StoredValue | undefined {
    return this.rows.get(row)?.columns.get(column);
  }

  /** Stores `value` as given: the caller hands over a buffer nobody else holds. */
  put(row: string, column: string, value: StoredValue): void {
    let r = this.rows.get(row);
    if (r === undefined) {
      r = { columns: new Map(), bytes: rowBaseBytes(keyBytes(row)) };
      this.rows.set(row, r);
      this.bytes += r.bytes;
      this.residentBytes += r.bytes;
      this.sorted = null;
    }
    const old = r.columns.get(column);
    const columnBytes = keyBytes(column);
    let delta = value.length;
    let residentDelta = residentValueBytes(value);
    if (old === undefined) {
      delta = cellBytes(columnBytes, value.length);
      residentDelta = cellBytes(columnBytes, residentDelta);
    } else {
      delta -= old.length;
      residentDelta -= residentValueBytes(old);
      this.unlog(old);
    }
    r.columns.set(column, value);
    this.logged(value);
    r.bytes += delta;
    this.bytes += delta;
    this.residentBytes += residentDelta;
  }

  /**
   * Replaces the value of a cell by where it lies in the log, if the cell still holds exactly
   * `value` (a later write, split or eviction may have moved on). True when replaced.
   */
  replaceByLogged(row: string, column: string, value: Buffer, logged: LoggedValue): boolean {
    const r = this.rows.get(row);
    if (r === undefined || r.columns.get(column) !== value) return false;
    r.columns.set(column, logged);
    this.logged(logged);
    this.residentBytes += LOGGED_VALUE_RESIDENT_BYTES - value.length;
    return true;
  }

  /** Removes a cell; true when it existed. A row left without cells is removed too. */
  delete(row: string, column: string): boolean {
    const r = this.rows.get(row);
    const old = r?.columns.get(column);
    if (r === undefined || old === undefined) return false;
    r.columns.delete(column);
    this.unlog(old);
    const columnBytes = keyBytes(column);
    const delta = cellBytes(columnBytes, old.length);
    r.bytes -= delta;
    this.bytes -= delta;
    this.residentBytes -= cellBytes(columnBytes, residentValueBytes(old));
    if (r.columns.size === 0) {
      this.bytes -= r.bytes;
      this.residentBytes -= r.bytes;
      assert.equal(r.bytes, rowBaseBytes(keyBytes(row)), 'row accounting drifted');
      this.rows.delete(row);
      this.sorted = null;
    }
    assert.ok(this.bytes >= 0 && this.residentBytes >= 0, 'tablet accounting went negative');
    return true;
  }

  /**
   * Replaces every value kept in log segment `segment` by its bytes (`read`), so that the
   * segment can go; returns the bytes read.
   */
  readBackLogged(segment: number, read: (value: LoggedValue, row: string, column: string) => Buffer): number {
    let bytes = 0;
    if (!this.loggedBytes.has(segment)) return 0;
    for (const [row, r] of this.rows) {
      for (const [column, value] of r.columns) {
        if (!(value instanceof LoggedValue) || value.segment !== segment) continue;
        // A read returns the value inside its record's buffer: a few header bytes more.
        const held = ownedValue(read(value, row, column));
        r.columns.set(column, held);
        this.unlog(value);
        this.residentBytes += held.length - LOGGED_VALUE_RESIDENT_BYTES;
        bytes += held.length;
      }
    }
    return bytes;
  }

  private logged(value: StoredValue): void {
    if (value instanceof LoggedValue) countLoggedBytes(this.loggedBytes, value.segment, value.length);
  }

  private unlog(value: StoredValue): void {
    if (value instanceof LoggedValue) countLoggedBytes(this.loggedBytes, value.segment, -value.length);
  }

  private sortedRows(): string[] {
    if (this.sorted === null) this.sorted = [...this.rows.keys()].sort();
    return this.sorted;
  }

  /** Up to `limit` row names after `after` (or from the start), in key order. */
  listRows(after: string | null, limit: number): { rows: string[]; more: boolean } {
    const all = this.sortedRows();
    const from = after === null ? 0 : upperBound(all, after);
    const rows = all.slice(from, from + limit);
    return { rows, more: from + limit < all.length };
  }

  /** Up to `limit` columns of `row` after `after`, in key order, with their value sizes. */
  listColumns(row: string, after: string | null, limit: number): { columns: KvColumnEntry[]; more: boolean } {
    const r = this.rows.get(row);
    if (r === undefined) return { columns: [], more: false };
    const names = [...r.columns.keys()].sort();
    const from = after === null ? 0 : upperBound(names, after);
    const columns = names.slice(from, from + limit)
      .map((column) => ({ column, valueBytes: r.columns.get(column)!.length }));
    return { columns, more: from + limit < names.length };
  }

  /** Every row with its bytes, in key order (what a split point is chosen from). */
  rowWeights(): RowWeight[] {
    return this.sortedRows().map((row) => ({ row, bytes: this.rows.get(row)!.bytes }));
  }

  /** Every cell in key order (what a checkpoint holds). */
  *cells(): Generator<[row: string, column: string, value: StoredValue]> {
    for (const row of this.sortedRows()) {
      const columns = this.rows.get(row)!.columns;
      for (const column of [...columns.keys()].sort()) yield [row, column, columns.get(column)!];
    }
  }

  /** Moves every row from `splitRow` on into a new tablet, which is returned. */
  splitAt(splitRow: string): Tablet {
    assert.ok(this.contains(splitRow) && splitRow > this.start, 'split row outside the tablet');
    const right = new Tablet(splitRow, this.end);
    for (const row of this.sortedRows()) {
      if (row < splitRow) continue;
      const r = this.rows.get(row)!;
      this.rows.delete(row);
      right.rows.set(row, r);
      right.bytes += r.bytes;
      this.bytes -= r.bytes;
      let resident = rowBaseBytes(keyBytes(row));
      for (const [column, value] of r.columns) {
        resident += cellBytes(keyBytes(column), residentValueBytes(value));
        this.unlog(value);
        right.logged(value);
      }
      right.residentBytes += resident;
      this.residentBytes -= resident;
    }
    this.end = splitRow;
    this.sorted = null;
    right.sorted = null;
    return right;
  }
}

/** Index of the first element greater than `key` in a sorted array. */
function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
