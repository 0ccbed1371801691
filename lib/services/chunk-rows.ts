/**
 * Where a file's bytes live: chunk `i` of content `c` is the cell `<spread>:chunk:<c>:<i>` /
 * `data`. Each chunk has its own row, and the spread prefix is a hash of that row's key, so
 * the chunks of one file land on every tablet and every replica group.
 */
import { randomBytes } from 'node:crypto';
import type { KvTable } from './kv-table.js';
import { rowKey } from './row-keys.js';

export const CHUNK_COLUMN = 'data';
/** Chunk deletions in flight at once while reclaiming a file. */
export const CHUNK_DELETES_IN_FLIGHT_MAX = 16;

/** The row of chunk `index` of content `contentId`. */
export function chunkRow(contentId: string, index: number): string {
  return rowKey('chunk', `${contentId}:${index}`);
}

/** A fresh content id (128 random bits): a new upload never shares chunks with anything. */
export function newContentId(): string {
  return randomBytes(16).toString('hex');
}

/** Number of chunks of a content of `size` bytes. */
export function chunkCount(size: number, chunkBytes: number): number {
  return size === 0 ? 0 : Math.ceil(size / chunkBytes);
}

/** Deletes chunks 0..count-1 of a content, a bounded number at a time. */
export async function deleteChunks(kv: KvTable, contentId: string, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await kv.delete(chunkRow(contentId, index), CHUNK_COLUMN);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHUNK_DELETES_IN_FLIGHT_MAX, count) }, worker));
}
