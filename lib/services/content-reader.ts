/**
 * Reads a file's bytes (or one byte range of them) back from its chunks as a stream, fetching
 * at most READ_AHEAD_BYTES_MAX of chunks ahead of what the client has taken (every chunk past
 * the first taken from the frontend's transfer budget), so memory stays flat and a slow client
 * slows the reads rather than filling the frontend. A reader holds the content id it started
 * with: if the file is replaced meanwhile, its old chunks go away and the stream fails rather
 * than mixing two versions.
 */
import { Readable } from 'node:stream';
import { PennError } from '../protocol/errors.js';
import { CHUNK_COLUMN, chunkCount, chunkRow } from './chunk-rows.js';
import type { KvTable } from './kv-table.js';
import type { TransferBudget } from './transfer-budget.js';

/**
 * Chunk bytes fetched ahead of the one being sent: enough reads in flight to hide the store's
 * round trip (and a tablet being loaded from disk) behind the client's socket.
 */
export const READ_AHEAD_BYTES_MAX = 8 * 1024 * 1024;
/** Chunks fetched ahead at most, whatever the chunk size (small chunks). */
export const CHUNK_READ_AHEAD_MAX = 32;
/** Bytes the stream buffers before it stops pulling chunk slices (each slice is one push). */
const STREAM_HIGH_WATER_BYTES = 64 * 1024;

/** Which content to read and which bytes of it (inclusive bounds). */
export interface ContentSlice {
  contentId: string;
  size: number;
  chunkBytes: number;
  start: number;
  end: number;
}

/** Chunks one reader fetches ahead with chunks of `chunkBytes`. */
export function chunkReadAhead(chunkBytes: number): number {
  return Math.max(1, Math.min(CHUNK_READ_AHEAD_MAX, Math.floor(READ_AHEAD_BYTES_MAX / chunkBytes)));
}

/** A byte stream of `slice`; its chunks read ahead past the first come from `budget`. */
export function readContent(kv: KvTable, slice: ContentSlice, budget: TransferBudget): Readable {
  return Readable.from(sliceBytes(kv, slice, budget), { objectMode: false, highWaterMark: STREAM_HIGH_WATER_BYTES });
}

/** A chunk on its way from the store; `borrowed` when its bytes were taken from the budget. */
interface Fetch {
  data: Promise<Buffer>;
  borrowed: boolean;
}

async function* sliceBytes(kv: KvTable, slice: ContentSlice, budget: TransferBudget): AsyncGenerator<Buffer> {
  const { contentId, size, chunkBytes, start, end } = slice;
  if (size === 0 || end < start) return;
  const count = chunkCount(size, chunkBytes);
  const first = Math.floor(start / chunkBytes);
  const last = Math.floor(end / chunkBytes);
  const readAhead = chunkReadAhead(chunkBytes);
  const fetchChunk = async (index: number): Promise<Buffer> => {
    const data = await kv.get(chunkRow(contentId, index), CHUNK_COLUMN);
    if (data === null) throw new PennError('CONFLICT', 'the file was replaced or deleted while it was being read', { reason: 'CONTENT_GONE' });
    const expected = index < count - 1 ? chunkBytes : size - index * chunkBytes;
    if (data.length !== expected) throw new PennError('INTERNAL', `chunk ${index} has ${data.length} bytes, expected ${expected}`);
    return data;
  };
  const pending: Fetch[] = [];
  let next = first;
  const prefetch = (): void => {
    while (next <= last && pending.length < readAhead) {
      // The first chunk ahead is this reader's own; more only while the budget has room.
      const borrowed = pending.length > 0;
      if (borrowed && !budget.tryTake(chunkBytes)) return;
      const data = fetchChunk(next++);
      // Awaited in order below; if the stream is abandoned first, the rejection is not lost noise.
      data.catch(() => undefined);
      pending.push({ data, borrowed });
    }
  };
  /** The chunk being sent, while its bytes are still owed to the budget. */
  let sending: Fetch | null = null;
  try {
    prefetch();
    for (let index = first; index <= last; index++) {
      sending = pending.shift()!;
      // The next ones are on their way while this one is awaited and sent.
      prefetch();
      const data = await sending.data;
      const from = index === first ? start - index * chunkBytes : 0;
      const to = index === last ? end - index * chunkBytes + 1 : data.length;
      yield data.subarray(from, to);
      // Asked for more: the stream has taken this chunk.
      if (sending.borrowed) budget.give(chunkBytes);
      sending = null;
    }
  } finally {
    if (sending?.borrowed) budget.give(chunkBytes);
    for (const fetch of pending) if (fetch.borrowed) budget.give(chunkBytes);
  }
}
