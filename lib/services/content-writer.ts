/**
 * Writes a byte stream into chunks of a new content id. Memory stays flat whatever the size:
 * one chunk being filled plus at most CHUNK_WRITES_IN_FLIGHT_MAX chunks on their way to the
 * store, and the source is not read further while those are full (backpressure reaches the
 * client's socket). Quota is reserved ahead of the bytes, in steps, so an upload without a
 * declared length is stopped as soon as it passes the quota.
 *
 * The upload is registered in the volume's ledger (quota-ledger.ts) and reports there, before
 * it writes past what it last reported and at least ten times per stale period, how far its
 * chunks reach. If its frontend dies, the next upload to the volume finds it silent for the
 * stale period (UPLOAD_STALE_MS), gives its reservation back and deletes its chunks. A writer that was only
 * stalled that long finds itself settled at its next report and stops without writing more.
 */
import { isPennError } from '../protocol/errors.js';
import { CHUNK_COLUMN, chunkCount, chunkRow, deleteChunks, newContentId } from './chunk-rows.js';
import type { KvTable } from './kv-table.js';
import type { QuotaLedger } from './quota-ledger.js';

/** Chunk writes of one upload in flight at once (each holds one chunk of memory). */
export const CHUNK_WRITES_IN_FLIGHT_MAX = 4;
/** Chunks reserved against the quota at a time when the length is not known in advance. */
export const RESERVE_STEP_CHUNKS = 8;
/** Chunks an upload may write past its last report before it reports again. */
export const UPLOAD_TOUCH_CHUNKS = 16;
/**
 * Default silence after which an upload counts as dead and is reclaimed (conf
 * drive.uploadStaleMs). Far above the report interval and the store's request timeout, so a
 * live writer has nothing in flight when it is settled.
 */
export const UPLOAD_STALE_MS = 10 * 60_000;
/** Reports per stale period: a writer reports at least every `staleMs / this`. */
export const UPLOAD_REPORTS_PER_STALE = 10;

/** What was written: the content id and its size. Its bytes are still reserved as an upload. */
export interface WrittenContent {
  contentId: string;
  size: number;
  chunkBytes: number;
}

/** How to write one upload: the chunk size, whose quota, and the declared length if any. */
export interface ContentWriteOptions {
  chunkBytes: number;
  ledger: QuotaLedger;
  /** The length the client declared, if any: reserved in one step before any byte is read. */
  declaredBytes: number | null;
  now: () => number;
  /** Silence after which an upload counts as dead (see UPLOAD_STALE_MS). */
  staleMs: number;
}

/**
 * Streams `source` into chunks. On any failure (the client aborts, the quota is reached, the
 * store refuses) the chunks written so far are deleted and the reservation is given back
 * before the error propagates. On success the caller settles with `ledger.finishUpload`.
 */
export async function writeContent(kv: KvTable, source: AsyncIterable<Uint8Array>, options: ContentWriteOptions): Promise<WrittenContent> {
  const { chunkBytes, ledger, now, staleMs } = options;
  const reportIntervalMs = Math.floor(staleMs / UPLOAD_REPORTS_PER_STALE);
  const contentId = newContentId();
  const swept = await ledger.beginUpload(contentId, now(), now() - staleMs);
  for (const dead of swept) await deleteChunks(kv, dead.contentId, dead.chunkBound);
  let reservedBytes = 0;
  let chunkBound = 0;
  let reportedMs = now();
  let size = 0;
  let index = 0;
  // Chunk buffers are reused once their write is done, so a long upload allocates at most
  // CHUNK_WRITES_IN_FLIGHT_MAX + 1 of them instead of one per chunk.
  const spare: Buffer[] = [];
  let fill: Buffer = Buffer.allocUnsafe(chunkBytes);
  let filled = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;

  const flush = async (): Promise<void> => {
    if (index >= chunkBound || now() - reportedMs >= reportIntervalMs) {
      chunkBound = index + UPLOAD_TOUCH_CHUNKS;
      reportedMs = now();
      await ledger.touchUpload(contentId, chunkBound, reportedMs);
    }
    const buffer = fill;
    const row = chunkRow(contentId, index++);
    const write = kv.put(row, CHUNK_COLUMN, buffer.subarray(0, filled)).then(
      () => { spare.push(buffer); },
      (err: unknown) => { failure ??= err; },
    );
    fill = spare.pop() ?? Buffer.allocUnsafe(chunkBytes);
    filled = 0;
    inFlight.add(write);
    void write.finally(() => inFlight.delete(write));
    while (inFlight.size >= CHUNK_WRITES_IN_FLIGHT_MAX) await Promise.race(inFlight);
    if (failure !== null) throw failure;
  };

  /** Reserves room for `neededBytes` more: a step of several chunks when it fits, else exactly. */
  const reserve = async (neededBytes: number): Promise<void> => {
    const step = Math.max(neededBytes, RESERVE_STEP_CHUNKS * chunkBytes);
    chunkBound = Math.max(chunkBound, index + UPLOAD_TOUCH_CHUNKS);
    reportedMs = now();
    try {
      await ledger.reserveForUpload(contentId, step, chunkBound, reportedMs);
      reservedBytes += step;
      return;
    } catch (err) {
      if (step === neededBytes || !isPennError(err, 'QUOTA_EXCEEDED')) throw err;
    }
    await ledger.reserveForUpload(contentId, neededBytes, chunkBound, reportedMs);
    reservedBytes += neededBytes;
  };

  try {
    if (options.declaredBytes !== null && options.declaredBytes > 0) {
      chunkBound = UPLOAD_TOUCH_CHUNKS;
      await ledger.reserveForUpload(contentId, options.declaredBytes, chunkBound, now());
      reservedBytes = options.declaredBytes;
    }
    for await (const piece of source) {
      let offset = 0;
      const bytes = piece as Uint8Array;
      while (offset < bytes.length) {
        const take = Math.min(bytes.length - offset, chunkBytes - filled);
        if (size + take > reservedBytes) await reserve(size + take - reservedBytes);
        fill.set(bytes.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        size += take;
        if (filled === chunkBytes) await flush();
      }
    }
    if (filled > 0) await flush();
    await Promise.all(inFlight);
    if (failure !== null) throw failure;
    return { contentId, size, chunkBytes };
  } catch (err) {
    await Promise.all(inFlight);
    await deleteChunks(kv, contentId, index);
    await ledger.finishUpload(contentId, 0);
    throw err;
  }
}

/** The chunks a written content occupies. */
export function writtenChunks(content: WrittenContent): number {
  return chunkCount(content.size, content.chunkBytes);
}
