/**
 * A page of a folder's entries, in name order. Entries are the folder row's `child:` columns;
 * each is checked against its node's record, so a node being moved shows in exactly one of
 * its two folders and a node being deleted shows in none.
 */
import { CHILD_PREFIX, childColumn, decodeLink, nodeRow, type NodeRecord } from './fs-records.js';
import type { VolumeTree } from './volume-tree.js';

/** Largest page of entries one listing returns (the KV's own page bound). */
export const LIST_PAGE_ENTRIES_MAX = 1000;
/** Entry and record reads in flight at once while building a page. */
export const LIST_READS_IN_FLIGHT_MAX = 32;

/** One page of a folder listing. */
export interface FolderPage<T> {
  entries: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Up to `limit` live entries of `folder` whose names sort after `cursor`. */
export async function listFolder(tree: VolumeTree, folder: NodeRecord, cursor: string | null, limit: number): Promise<FolderPage<NodeRecord>> {
  const { kv, volume } = tree.ctx;
  const row = nodeRow(volume, folder.id);
  const pageSize = Math.max(1, Math.min(limit, LIST_PAGE_ENTRIES_MAX));
  const { columns, more } = await kv.listColumns(row, { after: cursor === null ? CHILD_PREFIX : childColumn(cursor), limit: pageSize });
  const names = columns.filter((c) => c.column.startsWith(CHILD_PREFIX)).map((c) => c.column.slice(CHILD_PREFIX.length));
  const found: (NodeRecord | null)[] = new Array(names.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      const bytes = await kv.get(row, childColumn(names[i]!));
      if (bytes === null) continue;
      const node = await tree.node(decodeLink(bytes).id);
      if (node !== null && node.parentId === folder.id && node.name === names[i]) found[i] = node;
    }
  };
  await Promise.all(Array.from({ length: Math.min(LIST_READS_IN_FLIGHT_MAX, names.length) }, worker));
  // The page ends early when the columns past the entries (the record) were reached.
  const endOfEntries = names.length < columns.length || !more;
  return {
    entries: found.filter((n): n is NodeRecord => n !== null),
    nextCursor: endOfEntries || names.length === 0 ? null : names[names.length - 1]!,
  };
}
