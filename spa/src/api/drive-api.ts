/** The drive: `/api/files`, `/api/folders` and `/api/move` (docs/api.md). */
import { isApiError, requestJson, send } from './http';
import { encodePath } from './drive-path';

export interface DriveEntry {
  id: string;
  type: 'file' | 'folder';
  name: string;
  path: string;
  size: number;
  createdMs: number;
  modifiedMs: number;
}

export interface Usage {
  usedBytes: number;
  quotaBytes: number;
}

export interface FolderListing {
  folder: DriveEntry;
  entries: DriveEntry[];
  usage: Usage | null;
}

interface ListingPage {
  folder: DriveEntry;
  entries: DriveEntry[];
  nextCursor: string | null;
  usage?: Usage;
}

/** Pages of a folder the app reads before it stops (1,000 entries each). */
const LISTING_PAGES_MAX = 50;

/** The URL of a file's bytes; `inline` asks for a preview instead of a download. */
export function fileUrl(path: string, inline = false): string {
  return `/api/files${encodePath(path)}${inline ? '?inline=1' : ''}`;
}

/** The URL of one ZIP archive of `paths` (files, and folders with everything in them). */
export function zipUrl(paths: string[]): string {
  return `/api/zip?${paths.map((p) => `path=${encodeURIComponent(p)}`).join('&')}`;
}

/** Every entry of a folder (all pages). */
export async function listFolder(path: string, signal?: AbortSignal): Promise<FolderListing> {
  const entries: DriveEntry[] = [];
  let cursor: string | null = null;
  let first: ListingPage | null = null;
  for (let page = 0; page < LISTING_PAGES_MAX; page++) {
    const query: string = cursor === null ? '' : `?cursor=${encodeURIComponent(cursor)}`;
    const reply: ListingPage = await requestJson<ListingPage>('GET', `/api/files${encodePath(path)}${query}`, { signal });
    first ??= reply;
    entries.push(...reply.entries);
    cursor = reply.nextCursor;
    if (cursor === null) break;
  }
  return { folder: first!.folder, entries, usage: first!.usage ?? null };
}

/** Creates a folder; "already exists" counts as done when `existingIsFine`. */
export async function createFolder(path: string, existingIsFine = false): Promise<void> {
  try {
    await send('POST', `/api/folders${encodePath(path)}`, { resume: { kind: 'mkdir', path } });
  } catch (err) {
    if (existingIsFine && isApiError(err, 'CONFLICT', 'NAME_TAKEN')) return;
    throw err;
  }
}

/** Renames or moves `from` to the path `to`. */
export async function moveNode(from: string, to: string): Promise<DriveEntry> {
  return (await requestJson<{ node: DriveEntry }>('POST', '/api/move', { json: { from, to }, resume: { kind: 'move', from, to } })).node;
}

/** A page of the files and folders anywhere in the drive whose names have the words of `query` (and of `type`). */
export async function searchDrive(query: string, type: string, cursor: string | null): Promise<{ entries: DriveEntry[]; nextCursor: string | null }> {
  const params = new URLSearchParams({ q: query, limit: '50' });
  if (type !== '') params.set('type', type);
  if (cursor !== null) params.set('cursor', cursor);
  return requestJson('GET', `/api/search?${params}`);
}

/** Moves a file, or a folder with everything in it, to the trash; its trash entry. */
export async function deleteNode(path: string, recursive: boolean): Promise<TrashEntry> {
  return (await requestJson<{ trashed: TrashEntry }>('DELETE', `/api/files${encodePath(path)}${recursive ? '?recursive=1' : ''}`,
    { resume: { kind: 'delete', path, recursive } })).trashed;
}

/** Something in the trash. */
export interface TrashEntry {
  id: string;
  type: 'file' | 'folder';
  name: string;
  originalPath: string;
  size: number;
  deletedMs: number;
  purgeMs: number;
}

export interface TrashListing {
  entries: TrashEntry[];
  retentionDays: number;
  usage: Usage;
}

/** The trash, oldest deletion first (all pages). */
export async function listTrash(): Promise<TrashListing> {
  const entries: TrashEntry[] = [];
  let cursor: string | null = null;
  let first: (TrashListing & { nextCursor: string | null }) | null = null;
  for (let page = 0; page < LISTING_PAGES_MAX; page++) {
    const query: string = cursor === null ? '' : `?cursor=${encodeURIComponent(cursor)}`;
    const reply: TrashListing & { nextCursor: string | null } = await requestJson('GET', `/api/trash${query}`);
    first ??= reply;
    entries.push(...reply.entries);
    cursor = reply.nextCursor;
    if (cursor === null) break;
  }
  return { entries, retentionDays: first!.retentionDays, usage: first!.usage };
}

/** Puts a trash entry back where it was; the restored node. */
export async function restoreFromTrash(id: string): Promise<DriveEntry> {
  return (await requestJson<{ node: DriveEntry }>('POST', `/api/trash/${encodeURIComponent(id)}/restore`)).node;
}

/** Deletes a trash entry for good. */
export async function deleteForever(id: string): Promise<void> {
  await send('DELETE', `/api/trash/${encodeURIComponent(id)}`);
}

/** Deletes everything in the trash for good; how many entries went. */
export async function emptyTrash(): Promise<number> {
  return (await requestJson<{ removed: number }>('DELETE', '/api/trash')).removed;
}

/** The first `bytesMax` bytes of a file as text (for previews). */
export async function readTextStart(path: string, bytesMax: number, signal?: AbortSignal): Promise<{ text: string; truncated: boolean }> {
  const reply = await send('GET', fileUrl(path, true), { headers: { Range: `bytes=0-${bytesMax - 1}` }, signal });
  const total = /\/(\d+)$/.exec(reply.headers.get('content-range') ?? '')?.[1];
  const bytes = new Uint8Array(await reply.arrayBuffer());
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, bytesMax));
  return { text, truncated: total !== undefined ? Number(total) > bytesMax : bytes.length > bytesMax };
}
