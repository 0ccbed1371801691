/**
 * An inverted index in the store: for each term of a scope (one user's drive, one user's
 * mail) a row `<spread>:search:<scope>/<term>` whose columns are the keys of the documents
 * that have the term, in key order. A search reads the columns of one term's row a page at a
 * time and checks each candidate against the document itself, so an entry that is stale (the
 * document renamed, moved or deleted since) is never shown, only skipped and tidied away.
 * Entries are written before a document becomes visible and removed after it goes, so the
 * index is never missing a live document, only holding a few extra.
 */
import type { KvTable } from './kv-table.js';
import { rowKey } from './row-keys.js';

/** Index writes of one document in flight at once. */
export const INDEX_WRITES_IN_FLIGHT_MAX = 16;

export class TermIndex {
  constructor(private readonly kv: KvTable, private readonly scope: string) {}

  /** Enters `key` under every term of `terms`. */
  async add(terms: Iterable<string>, key: string): Promise<void> {
    await this.each(terms, (term) => this.kv.put(this.row(term), key, Buffer.alloc(0)));
  }

  /** Takes `key` out of every term of `terms`. */
  async remove(terms: Iterable<string>, key: string): Promise<void> {
    await this.each(terms, async (term) => {
      await this.kv.delete(this.row(term), key);
    });
  }

  /** Keys under `term` after `after` (exclusive), in key order, at most `limit`. */
  async keys(term: string, after: string | null, limit: number): Promise<{ keys: string[]; more: boolean }> {
    const { columns, more } = await this.kv.listColumns(this.row(term), { after, limit });
    return { keys: columns.map((c) => c.column), more };
  }

  /** True when `key` is under `term`. */
  async has(term: string, key: string): Promise<boolean> {
    return (await this.kv.get(this.row(term), key)) !== null;
  }

  private row(term: string): string {
    return rowKey('search', `${this.scope}/${term}`);
  }

  private async each(terms: Iterable<string>, write: (term: string) => Promise<void>): Promise<void> {
    const list = [...terms];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length) await write(list[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(INDEX_WRITES_IN_FLIGHT_MAX, list.length) }, worker));
  }
}
