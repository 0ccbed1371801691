/**
 * Writes a byte stream into chunks of a new content id. Memory stays flat whatever the size:
 * one chunk being filled plus at most UPLOAD_BYTES_IN_FLIGHT_MAX of chunks on their way to the
 * store (every write past the first taken from the frontend's transfer budget), and the source
 * is not read further while those are full (backpressure reaches the client's socket). Quota
 * is reserved ahead of the bytes, in steps, so an upload without a declared length is stopped
 * as soon as it passes the quota.
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
import type { TransferBudget } from './transfer-budget.js';

/**
 * Chunk bytes of one upload on their way to the store at once (each write holds its chunk until
 * every replica has logged it). A replicated write waits for three fsyncs and two extra network
 * hops, so it takes many writes in flight to keep a group busy; past the first, they come out
 * of the frontend's transfer budget (transfer-budget.ts), which bounds all uploads together.
 */
export const UPLOAD_BYTES_IN_FLIGHT_MAX = 16 * 1024 * 1024;
/** Chunk writes of one upload in flight at once, whatever the chunk size (small chunks). */
export const CHUNK_WRITES_IN_FLIGHT_MAX = 64;
/** Chunks reserved against the quota at a time when the length is not known in advance. */
export const RESERVE_STEP_CHUNKS = 8;
/**
 * Chunks an upload may write past its last report before it reports again, at least. An upload
 * raises its step to twice its writes in flight: a report (a compare-and-put on the usage cell)
 * then comes once per two windows of writes, and the writes sent before it keep the store busy
 * while it is made.
 */
export const UPLOAD_TOUCH_CHUNKS = 16;
/**
 * Default silence after which an upload counts as dead and is reclaimed (conf
 * drive.uploadStaleMs). Far above the report interval and the store's request timeout, so a
 * live writer has nothing in flight when it is settled.
 */
export const UPLOAD_STALE_MS = 10 * 60_000;
/** Reports per stale period: a writer reports at least every `staleMs / this`. */
export const UPLOAD_REPORTS_PER_STALE = 10;

/** Chunk writes one upload keeps in flight with chunks of `chunkBytes`. */
export function chunkWritesInFlight(chunkBytes: number): number {
  return Math.max(1, Math.min(CHUNK_WRITES_IN_FLIGHT_MAX, Math.floor(UPLOAD_BYTES_IN_FLIGHT_MAX / chunkBytes)));
}

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
  /** The frontend's budget, which writes in flight past the upload's first are taken from. */
  budget: TransferBudget;
}

/**
 * Streams `source` into chunks. On any failure (the client aborts, the quota is reached, the
 * store refuses) the chunks written so far are deleted and the reservation is given back
 * before the error propagates. On success the caller settles with `ledger.finishUpload`.
 */
export async function writeContent(kv: KvTable, source: AsyncIterable<Uint8Array>, options: ContentWriteOptions): Promise<WrittenContent> {
  const { chunkBytes, ledger, now, staleMs, budget } = options;
  const reportIntervalMs = Math.floor(staleMs / UPLOAD_REPORTS_PER_STALE);
  const writesMax = chunkWritesInFlight(chunkBytes);
  const touchChunks = Math.max(UPLOAD_TOUCH_CHUNKS, 2 * writesMax);
  const contentId = newContentId();
  const swept = await ledger.beginUpload(contentId, now(), now() - staleMs);
  for (const dead of swept) await deleteChunks(kv, dead.contentId, dead.chunkBound);
  let reservedBytes = 0;
  let chunkBound = 0;
  let reportedMs = now();
  let size = 0;
  let index = 0;
  // Chunk buffers are reused once their write is done, so a long upload allocates at most
  // writesMax + 1 of them instead of one per chunk.
  const spare: Buffer[] = [];
  let fill: Buffer = Buffer.allocUnsafe(chunkBytes);
  let filled = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;

  const flush = async (): Promise<void> => {
    if (index >= chunkBound || now() - reportedMs >= reportIntervalMs) {
      chunkBound = index + touchChunks;
      reportedMs = now();
      await ledger.touchUpload(contentId, chunkBound, reportedMs);
    }
    // The upload's first write in flight is its own; more fit within its window while the
    // frontend's budget has room, else this one waits for one of its own to finish.
    let borrowed = false;
    while (inFlight.size > 0 && failure === null) {
      if (inFlight.size < writesMax && budget.tryTake(chunkBytes)) {
        borrowed = true;
        break;
      }
      await Promise.race(inFlight);
    }
    if (failure !== null) throw failure;
    const buffer = fill;
    const row = chunkRow(contentId, index++);
    const write: Promise<void> = kv.put(row, CHUNK_COLUMN, buffer.subarray(0, filled)).then(
      () => { spare.push(buffer); },
      (err: unknown) => { failure ??= err; },
    ).finally(() => {
      inFlight.delete(write);
      if (borrowed) budget.give(chunkBytes);
    });
    inFlight.add(write);
    fill = spare.pop() ?? Buffer.allocUnsafe(chunkBytes);
    filled = 0;
  };

  /** Reserves room for `neededBytes` more: a step of several chunks when it fits, else exactly. */
  const reserve = async (neededBytes: number): Promise<void> => {
    const step = Math.max(neededBytes, RESERVE_STEP_CHUNKS * chunkBytes);
    chunkBound = Math.max(chunkBound, index + touchChunks);
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
      chunkBound = touchChunks;
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
