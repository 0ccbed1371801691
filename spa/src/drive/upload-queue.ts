/**
 * The uploads of the drive screen: every file chosen or dropped is queued, a few go at once,
 * and each reports its bytes sent, so the panel shows a bar per file and one for all of them.
 */
import { ApiError, describeError, NetworkError } from '../api/api-error';
import { childPath } from '../api/drive-path';
import { reconnect } from '../api/reconnect';
import { uploadFile, type UploadHandle } from '../api/upload';
import { createStore } from '../ui/store';

/** Files sent at once: enough to fill the link, few enough that each shows progress. */
export const UPLOADS_IN_FLIGHT_MAX = 2;

export type UploadStatus = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

export interface UploadItem {
  id: number;
  name: string;
  folder: string;
  sizeBytes: number;
  sentBytes: number;
  status: UploadStatus;
  error?: string;
}

export class UploadQueue {
  readonly items = createStore<UploadItem[]>([]);
  private readonly files = new Map<number, File>();
  private readonly running = new Map<number, UploadHandle>();
  private nextId = 1;

  constructor(private readonly onStored: (folder: string) => void) {}

  /** Queues `files` for upload into `folder`. */
  add(folder: string, files: readonly File[]): void {
    const added: UploadItem[] = files.map((file) => {
      const id = this.nextId++;
      this.files.set(id, file);
      return { id, name: file.name, folder, sizeBytes: file.size, sentBytes: 0, status: 'queued' };
    });
    this.items.set([...this.items.get(), ...added]);
    this.pump();
  }

  cancel(id: number): void {
    const handle = this.running.get(id);
    if (handle) handle.abort();
    else this.update(id, { status: 'cancelled' });
  }

  /** Forgets finished uploads (the panel's "Clear"). */
  clearFinished(): void {
    this.items.set(this.items.get().filter((i) => i.status === 'queued' || i.status === 'uploading'));
  }

  private pump(): void {
    for (const item of this.items.get()) {
      if (this.running.size >= UPLOADS_IN_FLIGHT_MAX) return;
      if (item.status === 'queued') this.start(item);
    }
  }

  private start(item: UploadItem): void {
    const file = this.files.get(item.id)!;
    this.update(item.id, { status: 'uploading' });
    const handle = uploadFile(childPath(item.folder, item.name), file, (sent) => this.update(item.id, { sentBytes: sent }));
    this.running.set(item.id, handle);
    handle.done.then(
      () => {
        this.update(item.id, { status: 'done', sentBytes: item.sizeBytes });
        this.onStored(item.folder);
      },
      (err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') this.update(item.id, { status: 'cancelled' });
        else this.update(item.id, { status: 'failed', error: describeError(err) });
        if (err instanceof NetworkError) this.reconnectWithNotice();
        else if (err instanceof ApiError && err.code === 'QUOTA_EXCEEDED') this.failQueued(describeError(err));
      },
    ).finally(() => {
      this.running.delete(item.id);
      this.files.delete(item.id);
      this.pump();
    });
  }

  /** The frontend went away mid-upload: the files cannot follow, so the user is told which. */
  private reconnectWithNotice(): void {
    const unfinished = this.items.get().filter((i) => i.status !== 'done' && i.status !== 'cancelled').map((i) => i.name);
    const names = unfinished.slice(0, 5).join(', ') + (unfinished.length > 5 ? ` and ${unfinished.length - 5} more` : '');
    void reconnect({ kind: 'notice', text: `These uploads did not finish; please add them again: ${names}.` });
  }

  private failQueued(reason: string): void {
    for (const item of this.items.get()) if (item.status === 'queued') this.update(item.id, { status: 'failed', error: reason });
  }

  private update(id: number, change: Partial<UploadItem>): void {
    this.items.set(this.items.get().map((i) => (i.id === id ? { ...i, ...change } : i)));
  }
}

/** Bytes sent over bytes to send, across the uploads still shown. */
export function overallProgress(items: readonly UploadItem[]): { sentBytes: number; totalBytes: number } {
  let sentBytes = 0;
  let totalBytes = 0;
  for (const item of items) {
    if (item.status === 'cancelled' || item.status === 'failed') continue;
    sentBytes += item.sentBytes;
    totalBytes += item.sizeBytes;
  }
  return { sentBytes, totalBytes };
}
