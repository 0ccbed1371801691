/**
 * The admin console's raw view of the store: the cells of one tablet in key order, a page at
 * a time, each value shown as text when it is printable and as hex otherwise, long values cut
 * (with their full size given). Cursors are opaque strings that carry the position after the
 * page and the starts of the pages before it, so "previous" needs no server state.
 */
import { PennError } from '../protocol/errors.js';

/** Cells per page by default and at most. */
export const DATA_PAGE_DEFAULT = 10;
export const DATA_PAGE_MAX = 100;
/** Bytes of a value shown; the rest is cut and its size given. */
export const VALUE_PREVIEW_BYTES = 256;
/** Page starts remembered for "previous"; further back, previous goes to the first page. */
export const PAGES_BACK_MAX = 64;

/** What the admin data view needs of the store. */
export interface RawStore {
  listRows(tabletStart: string, options: { after?: string | null; limit?: number }): Promise<{ rows: string[]; end: string | null; more: boolean }>;
  listColumns(row: string, options: { after?: string | null; limit?: number }): Promise<{ columns: Array<{ column: string; valueBytes: number }>; more: boolean }>;
  get(row: string, column: string): Promise<Buffer | null>;
}

export interface RawCell {
  row: string;
  column: string;
  /** Full size of the value in bytes. */
  size: number;
  encoding: 'text' | 'hex';
  /** The first VALUE_PREVIEW_BYTES bytes as text or hex. */
  value: string;
  truncated: boolean;
}

export interface RawPage {
  tablet: string;
  cells: RawCell[];
  next: string | null;
  previous: string | null;
}

/** A position: the page starts after this cell (null: at the tablet's start). */
type Position = { row: string; column: string } | null;
interface Cursor { at: Position; back: Position[] }

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(text: string | null): Cursor {
  if (text === null || text === '') return { at: null, back: [] };
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    const ok = (p: Position): boolean => p === null || (typeof p.row === 'string' && typeof p.column === 'string');
    if (ok(c.at) && Array.isArray(c.back) && c.back.every(ok)) return c;
  } catch {
    // fall through
  }
  throw new PennError('BAD_REQUEST', 'the cursor is not one this server gave out');
}

/** Printable UTF-8 (with tabs and line ends) is shown as text; anything else as hex. */
export function renderValue(value: Buffer): Pick<RawCell, 'encoding' | 'value' | 'truncated'> {
  const shown = value.subarray(0, VALUE_PREVIEW_BYTES);
  const truncated = value.length > VALUE_PREVIEW_BYTES;
  const text = shown.toString('utf8');
  // A cut in the middle of a multi-byte character leaves one replacement at the end only.
  const body = truncated ? text.replace(/\uFFFD$/, '') : text;
  const printable = !body.includes('\uFFFD') && !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(body);
  return printable ? { encoding: 'text', value: body, truncated } : { encoding: 'hex', value: shown.toString('hex'), truncated };
}

/** One page of a tablet's cells after the cursor. */
export async function rawPage(store: RawStore, tablet: string, cursorText: string | null, limit: number): Promise<RawPage> {
  const cursor = decodeCursor(cursorText);
  const cells: Array<{ row: string; column: string; valueBytes: number }> = [];
  let row: string | null = cursor.at?.row ?? null;
  let afterColumn: string | null = cursor.at?.column ?? null;
  let more = false;
  // The row of the position may have columns left; then the rows after it.
  if (row !== null) {
    const cols = await store.listColumns(row, { after: afterColumn, limit: limit + 1 });
    for (const c of cols.columns) cells.push({ row, column: c.column, valueBytes: c.valueBytes });
  }
  let rowsAfter: string | null = row;
  while (cells.length <= limit) {
    const rows = await store.listRows(tablet, { after: rowsAfter, limit: 50 });
    for (const r of rows.rows) {
      const cols = await store.listColumns(r, { limit: limit + 1 - cells.length });
      for (const c of cols.columns) cells.push({ row: r, column: c.column, valueBytes: c.valueBytes });
      if (cells.length > limit) break;
    }
    if (!rows.more || rows.rows.length === 0) break;
    rowsAfter = rows.rows[rows.rows.length - 1]!;
  }
  if (cells.length > limit) {
    more = true;
    cells.length = limit;
  }
  const values = await Promise.all(cells.map((c) => store.get(c.row, c.column)));
  const rendered: RawCell[] = cells.map((c, i) => {
    const v = values[i] ?? Buffer.alloc(0);
    return { row: c.row, column: c.column, size: v.length, ...renderValue(v) };
  });
  const last = cells[cells.length - 1];
  const back = [...cursor.back, cursor.at].slice(-PAGES_BACK_MAX);
  const next = more && last !== undefined ? encodeCursor({ at: { row: last.row, column: last.column }, back }) : null;
  const previous = cursor.at === null && cursor.back.length === 0
    ? null
    : encodeCursor({ at: cursor.back[cursor.back.length - 1] ?? null, back: cursor.back.slice(0, -1) });
  return { tablet, cells: rendered, next, previous };
}
