/**
 * Deleting a node and everything under it, reclaiming the chunks of every file and giving its
 * bytes back to the quota. The node's record is first replaced by a tombstone with a CPUT:
 * of several deleters (or a deleter and an upload replacing the file) exactly one wins and
 * reclaims exactly the content it displaced. A folder is tombstoned before its children are
 * deleted, so an upload or move that links into it afterwards sees it gone and undoes itself.
 */
import { casUpdate } from './cas-update.js';
import { chunkCount, deleteChunks } from './chunk-rows.js';
import {
  CHILD_PREFIX, decodeLink, decodeNode, encodeTombstone, META_COLUMN, nodeRow, type NodeRecord,
} from './fs-records.js';
import type { VolumeTree } from './volume-tree.js';

/** Entries of a folder read per page while emptying it. */
export const REMOVE_PAGE_ENTRIES = 100;
/** File removals in flight at once while a folder is emptied. */
export const REMOVALS_IN_FLIGHT_MAX = 4;
/** Pages read from one folder before giving up (entries added faster than removed). */
export const REMOVE_PAGES_MAX = 100_000;

/**
 * Removes node `id` (and its subtree): tombstones it, takes its entry out of folder
 * `parentId`, then reclaims. Returns false when it was already gone (someone else reclaims).
 */
export async function removeNode(tree: VolumeTree, id: string, parentId: string): Promise<boolean> {
  const { kv, volume } = tree.ctx;
  const row = nodeRow(volume, id);
  const killed = await casUpdate<NodeRecord | null>(kv, row, META_COLUMN, (current) => {
    const node = current === null ? null : decodeNode(current);
    if (node === null) return { skip: true, result: null };
    return { next: encodeTombstone(id), result: node };
  });
  if (killed === null) return false;
  await tree.unlink(killed.parentId ?? parentId, killed.name, id);
  if (killed.type === 'file') {
    await deleteChunks(kv, killed.contentId, chunkCount(killed.size, killed.chunkBytes));
    await tree.ctx.ledger.release(killed.size);
  } else {
    await emptyFolder(tree, id);
  }
  await kv.delete(row, META_COLUMN);
  return true;
}

/**
 * Removes every child of a (tombstoned) folder and then its entries. Files go a few at a time;
 * subfolders one after another, so however deep the tree, at most REMOVALS_IN_FLIGHT_MAX
 * removals run at once (only the deepest folder being emptied runs its files in parallel).
 */
async function emptyFolder(tree: VolumeTree, folderId: string): Promise<void> {
  const { kv, volume } = tree.ctx;
  const row = nodeRow(volume, folderId);
  for (let page = 0; page < REMOVE_PAGES_MAX; page++) {
    const { columns } = await kv.listColumns(row, { after: null, limit: REMOVE_PAGE_ENTRIES });
    const entries = columns.filter((c) => c.column.startsWith(CHILD_PREFIX)).map((c) => c.column);
    if (entries.length === 0) return;
    const files: string[] = [];
    const folders: string[] = [];
    for (const column of entries) {
      const bytes = await kv.get(row, column);
      const child = bytes === null ? null : await tree.node(decodeLink(bytes).id);
      // A child that moved out meanwhile is not ours to delete.
      if (child !== null && child.parentId === folderId) (child.type === 'file' ? files : folders).push(child.id);
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) await removeNode(tree, files[next++]!, folderId);
    };
    await Promise.all(Array.from({ length: Math.min(REMOVALS_IN_FLIGHT_MAX, files.length) }, worker));
    for (const id of folders) await removeNode(tree, id, folderId);
    for (const column of entries) await kv.delete(row, column);
  }
}
