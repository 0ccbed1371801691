/**
 * Where a file's bytes live: chunk `i` of content `c` is the cell `data` of its own row. The
 * chunks go in runs of CHUNKS_PER_RUN consecutive chunks: a run's rows share one spread prefix
 * (a hash of the content id and the run number) and sort by chunk index, so
 * `<spread>:chunk:<c>:<run>:<i, ten digits>`. A large file thus spreads over tablets and replica
 * groups run by run, while each run sits in one tablet: an upload dirties, and a download loads,
 * a few tablets in turn instead of every tablet for every chunk. Contents written before runs
 * (ids without the run mark) keep one spread prefix per chunk, `<spread>:chunk:<c>:<i>`.
 */
import { randomBytes } from 'node:crypto';
import type { KvTable } from './kv-table.js';
import { rowKey } from './row-keys.js';

export const CHUNK_COLUMN = 'data';
/** Consecutive chunks that share a row prefix (64 MiB with 1 MiB chunks). */
export const CHUNKS_PER_RUN = 64;
/** The first character of a content id whose chunks are laid out in runs. */
const RUN_LAYOUT_MARK = 'r';
/** Digits of the chunk index in a run row (chunk indexes stay below 10^10). */
const INDEX_DIGITS = 10;
/** Chunk deletions in flight at once while reclaiming a file. */
export const CHUNK_DELETES_IN_FLIGHT_MAX = 16;

/** The row of chunk `index` of content `contentId`. */
export function chunkRow(contentId: string, index: number): string {
  if (!contentId.startsWith(RUN_LAYOUT_MARK)) return rowKey('chunk', `${contentId}:${index}`);
  const run = Math.floor(index / CHUNKS_PER_RUN);
  return `${rowKey('chunk', `${contentId}:${run}`)}:${String(index).padStart(INDEX_DIGITS, '0')}`;
}

/** A fresh content id (the run mark, then 128 random bits): a new upload shares no chunk with anything. */
export function newContentId(): string {
  return RUN_LAYOUT_MARK + randomBytes(16).toString('hex');
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
