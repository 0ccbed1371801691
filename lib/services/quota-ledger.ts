/**
 * A volume's byte usage against its quota, and the uploads in progress that hold part of it:
 * one cell, `<spread>:usage:<volume>` / `usage`, changed only by compare-and-put (casUpdate),
 * so uploads on different frontends never lose each other's charges.
 *
 * An upload registers itself here, reserves bytes before it writes them, reports how far its
 * chunks may reach, and settles when it commits or fails. Charge and registration change in
 * one CPUT, so they never disagree. An upload whose frontend died (or whose client stalled)
 * stops reporting; the next upload to the volume finds it stale, gives its bytes back in that
 * same CPUT and deletes its chunks. A file's bytes are released by whoever reclaims the file.
 */
import { PennError } from '../protocol/errors.js';
import { casUpdate } from './cas-update.js';
import { decodeRecord, encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { rowKey } from './row-keys.js';

const COLUMN = 'usage';

/** An upload in progress, as the ledger knows it. */
export interface PendingUpload {
  reservedBytes: number;
  /** No chunk at this index or beyond exists or will be written without raising this first. */
  chunkBound: number;
  touchedMs: number;
}

interface UsageRecord {
  usedBytes: number;
  pending: Record<string, PendingUpload>;
}

/** An upload found stale and settled: its chunks below `chunkBound` are to be deleted. */
export interface SweptUpload {
  contentId: string;
  chunkBound: number;
}

/** The usage counter of one volume. */
export class QuotaLedger {
  private readonly row: string;

  constructor(private readonly kv: KvTable, volume: string, readonly quotaBytes: number) {
    this.row = rowKey('usage', volume);
  }

  /** Bytes in use now (files and reservations of uploads in progress). */
  async usedBytes(): Promise<number> {
    return (await this.read()).usedBytes;
  }

  /** Refuses early when `bytes` more would not fit; changes nothing. */
  async checkRoom(bytes: number): Promise<void> {
    const { usedBytes } = await this.read();
    if (usedBytes + bytes > this.quotaBytes) throw this.exceeded(bytes, usedBytes);
  }

  /** Charges `bytes`, or refuses (QUOTA_EXCEEDED) without charging when they would not fit. */
  async reserve(bytes: number): Promise<void> {
    if (bytes === 0) return;
    await this.update((usage) => {
      if (usage.usedBytes + bytes > this.quotaBytes) throw this.exceeded(bytes, usage.usedBytes);
      usage.usedBytes += bytes;
    });
  }

  /** Gives back `bytes` charged earlier. */
  async release(bytes: number): Promise<void> {
    if (bytes === 0) return;
    // Never below zero: a count damaged by a crash between two steps heals here.
    await this.update((usage) => { usage.usedBytes = Math.max(0, usage.usedBytes - bytes); });
  }

  /**
   * Registers upload `contentId` and, in the same CPUT, settles every registered upload not
   * heard from since `staleBeforeMs`. Returns those, whose chunks the caller deletes.
   */
  async beginUpload(contentId: string, nowMs: number, staleBeforeMs: number): Promise<SweptUpload[]> {
    return this.update((usage) => {
      const swept: SweptUpload[] = [];
      for (const [id, upload] of Object.entries(usage.pending)) {
        if (upload.touchedMs >= staleBeforeMs) continue;
        usage.usedBytes = Math.max(0, usage.usedBytes - upload.reservedBytes);
        delete usage.pending[id];
        swept.push({ contentId: id, chunkBound: upload.chunkBound });
      }
      usage.pending[contentId] = { reservedBytes: 0, chunkBound: 0, touchedMs: nowMs };
      return swept;
    });
  }

  /**
   * Reserves `bytes` more for an upload and records how far its chunks may reach. Refuses
   * with QUOTA_EXCEEDED, or UNAVAILABLE (reason UPLOAD_EXPIRED) when it was settled as stale.
   */
  async reserveForUpload(contentId: string, bytes: number, chunkBound: number, nowMs: number): Promise<void> {
    await this.update((usage) => {
      const upload = this.pendingOf(usage, contentId);
      if (usage.usedBytes + bytes > this.quotaBytes) throw this.exceeded(bytes, usage.usedBytes);
      usage.usedBytes += bytes;
      upload.reservedBytes += bytes;
      upload.chunkBound = Math.max(upload.chunkBound, chunkBound);
      upload.touchedMs = nowMs;
    });
  }

  /** Reports an upload alive and how far its chunks may reach (UPLOAD_EXPIRED if settled). */
  async touchUpload(contentId: string, chunkBound: number, nowMs: number): Promise<void> {
    await this.update((usage) => {
      const upload = this.pendingOf(usage, contentId);
      upload.chunkBound = Math.max(upload.chunkBound, chunkBound);
      upload.touchedMs = nowMs;
    });
  }

  /**
   * Ends an upload's registration, keeping `keepBytes` of its reservation charged (the size of
   * a file about to be committed, or 0 for a failed upload) and giving back the rest. False
   * when it had already been settled as stale (nothing is charged for it any more).
   */
  async finishUpload(contentId: string, keepBytes: number): Promise<boolean> {
    return this.update((usage) => {
      const upload = usage.pending[contentId];
      if (upload === undefined) return false;
      usage.usedBytes = Math.max(0, usage.usedBytes - (upload.reservedBytes - keepBytes));
      delete usage.pending[contentId];
      return true;
    });
  }

  private pendingOf(usage: UsageRecord, contentId: string): PendingUpload {
    const upload = usage.pending[contentId];
    if (upload === undefined) {
      throw new PennError('UNAVAILABLE', 'the upload was idle for too long and has been discarded', { reason: 'UPLOAD_EXPIRED' });
    }
    return upload;
  }

  private async read(): Promise<UsageRecord> {
    const bytes = await this.kv.get(this.row, COLUMN);
    return bytes === null ? emptyUsage() : decodeUsage(bytes);
  }

  /** Applies `change` to a fresh copy of the record and stores it with CPUT (retried). */
  private update<T>(change: (usage: UsageRecord) => T): Promise<T> {
    return casUpdate(this.kv, this.row, COLUMN, (current) => {
      const usage = current === null ? emptyUsage() : decodeUsage(current);
      const result = change(usage);
      return { next: encodeRecord(usage), result };
    });
  }

  private exceeded(bytes: number, used: number): PennError {
    const free = Math.max(0, this.quotaBytes - used);
    return new PennError('QUOTA_EXCEEDED',
      `not enough space: ${bytes} more bytes needed, ${free} of the quota of ${this.quotaBytes} bytes are free`,
      { reason: 'QUOTA_EXCEEDED' });
  }
}

function emptyUsage(): UsageRecord {
  return { usedBytes: 0, pending: {} };
}

function decodeUsage(bytes: Buffer): UsageRecord {
  return decodeRecord<UsageRecord>(bytes, 'usage record',
    (v) => Number.isSafeInteger(v.usedBytes) && v.usedBytes >= 0 && typeof v.pending === 'object' && v.pending !== null);
}
