/**
 * Reads a file's bytes (or one byte range of them) back from its chunks as a stream, fetching
 * at most CHUNK_READ_AHEAD chunks ahead of what the client has taken, so memory stays flat and
 * a slow client slows the reads rather than filling the frontend. A reader holds the content id
 * it started with: if the file is replaced meanwhile, its old chunks go away and the stream
 * fails rather than mixing two versions.
 */
import { Readable } from 'node:stream';
import { PennError } from '../protocol/errors.js';
import { CHUNK_COLUMN, chunkCount, chunkRow } from './chunk-rows.js';
import type { KvTable } from './kv-table.js';

/** Chunks fetched ahead of the one being sent. */
export const CHUNK_READ_AHEAD = 2;
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

/** A byte stream of `slice`. */
export function readContent(kv: KvTable, slice: ContentSlice): Readable {
  return Readable.from(sliceBytes(kv, slice), { objectMode: false, highWaterMark: STREAM_HIGH_WATER_BYTES });
}

async function* sliceBytes(kv: KvTable, slice: ContentSlice): AsyncGenerator<Buffer> {
  const { contentId, size, chunkBytes, start, end } = slice;
  if (size === 0 || end < start) return;
  const count = chunkCount(size, chunkBytes);
  const first = Math.floor(start / chunkBytes);
  const last = Math.floor(end / chunkBytes);
  const fetchChunk = async (index: number): Promise<Buffer> => {
    const data = await kv.get(chunkRow(contentId, index), CHUNK_COLUMN);
    if (data === null) throw new PennError('CONFLICT', 'the file was replaced or deleted while it was being read', { reason: 'CONTENT_GONE' });
    const expected = index < count - 1 ? chunkBytes : size - index * chunkBytes;
    if (data.length !== expected) throw new PennError('INTERNAL', `chunk ${index} has ${data.length} bytes, expected ${expected}`);
    return data;
  };
  const pending: Promise<Buffer>[] = [];
  let next = first;
  const prefetch = (): void => {
    while (next <= last && pending.length < CHUNK_READ_AHEAD) {
      const p = fetchChunk(next++);
      // Awaited in order below; if the stream is abandoned first, the rejection is not lost noise.
      p.catch(() => undefined);
      pending.push(p);
    }
  };
  for (let index = first; index <= last; index++) {
    prefetch();
    const data = await pending.shift()!;
    const from = index === first ? start - index * chunkBytes : 0;
    const to = index === last ? end - index * chunkBytes + 1 : data.length;
    yield data.subarray(from, to);
  }
}
