/**
 * The drive, addressed by path under `/api`:
 *   PUT    /api/files/<path>      the raw body creates or replaces a file (`curl -T` works)
 *   POST   /api/files/<folder>    multipart/form-data: one or more files into a folder
 *   GET    /api/files/<path>      a file's bytes (Range: one byte range), or a folder as JSON
 *   DELETE /api/files/<path>      moves to the trash (a folder with entries needs ?recursive=1;
 *                                 ?permanent=1 deletes for good at once)
 *   POST   /api/folders/<path>    creates a folder (?parents=1 makes missing parents)
 *   POST   /api/move {from, to}   renames or moves
 *   GET    /api/search?q=&type=   files and folders anywhere whose names have the words (?cursor=&limit=)
 *   GET    /api/zip?path=&path=   the named files and folders as one ZIP archive, streamed
 *   GET    /api/trash             the trash, oldest deletion first (?cursor=&limit=)
 *   POST   /api/trash/<id>/restore  puts an entry back where it was
 *   DELETE /api/trash/<id>        deletes an entry for good; DELETE /api/trash empties it
 * Each user has one volume, "drive:<username>": paths are always inside the caller's own
 * tree, so there is no way to name another user's file.
 */
import { Readable } from 'node:stream';
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import { Controller, type RouteTable } from '../router/router.js';
import { LIST_PAGE_ENTRIES_MAX, type StorageService, type Volume } from '../services/storage-service.js';
import { parseDriveQuery, SEARCH_PAGE_DEFAULT, SEARCH_PAGE_MAX } from '../services/drive-search.js';
import { archiveEntries } from '../services/drive-archive.js';
import { zipLength, zipStream } from '../services/zip-writer.js';
import { contentDisposition } from './content-disposition.js';
import { sendFile } from './file-download.js';
import { receiveMultipart } from './multipart-upload.js';
import { requireSameSite, requireSession, sessionOf, type Authenticator } from './request-guards.js';

/** Largest JSON body of /api/move: two paths. */
export const MOVE_BODY_BYTES_MAX = 64 * 1024;

/**
 * Bytes of a multipart body that are not file content (boundaries, part headers, small
 * fields): the slack the early quota check of a folder upload allows.
 */
export const MULTIPART_FRAMING_BYTES_MAX = 64 * 1024;

/** The drive's settings (conf `drive`) the controller applies. */
export interface DriveOptions {
  /** Bytes each user may store. */
  quotaBytes: number;
  /** Days an entry stays in the trash (shown to users). */
  trashRetentionDays: number;
}

/** The drive routes, each behind the cross-site check and a session. */
export class DriveController extends Controller {
  constructor(private readonly storage: StorageService, auth: Authenticator, private readonly options: DriveOptions) {
    super();
    this.middleware.push(requireSameSite, requireSession(auth));
  }

  routes(table: RouteTable): void {
    table.put('/files/*path', (ctx) => this.putFile(ctx));
    table.post('/files/*path', (ctx) => this.upload(ctx));
    table.get('/files/*path', (ctx) => this.get(ctx));
    table.delete('/files/*path', (ctx) => this.remove(ctx));
    table.post('/folders/*path', (ctx) => this.createFolder(ctx));
    table.post('/move', (ctx) => this.move(ctx));
    table.get('/search', (ctx) => this.search(ctx));
    table.get('/zip', (ctx) => this.zip(ctx));
    table.get('/trash', (ctx) => this.listTrash(ctx));
    table.post('/trash/:id/restore', (ctx) => this.restore(ctx));
    table.delete('/trash/:id', (ctx) => this.removeFromTrash(ctx));
    table.delete('/trash', (ctx) => this.emptyTrash(ctx));
  }

  private volume(ctx: RequestContext): Volume {
    return this.storage.volume(`drive:${sessionOf(ctx).username}`, this.options.quotaBytes, { searchable: true });
  }

  private async putFile(ctx: RequestContext): Promise<void> {
    const { node, created } = await this.volume(ctx).writeFile(ctx.params.path!, ctx.req.body, ctx.req.bodyLength);
    ctx.json(created ? 201 : 200, { file: node });
  }

  private async upload(ctx: RequestContext): Promise<void> {
    const volume = this.volume(ctx);
    const folder = ctx.params.path!;
    const target = await volume.stat(folder);
    if (target.type !== 'folder') throw new PennError('CONFLICT', `${target.path} is a file, not a folder`, { reason: 'NOT_A_FOLDER' });
    // Refused before a byte of the body is read when even its length less the framing cannot
    // fit; the exact count is enforced while the files stream in.
    if (ctx.req.bodyLength !== null) await volume.checkRoom(Math.max(0, ctx.req.bodyLength - MULTIPART_FRAMING_BYTES_MAX));
    const files = await receiveMultipart(ctx, volume, folder);
    ctx.json(201, { files });
  }

  private async get(ctx: RequestContext): Promise<void> {
    const volume = this.volume(ctx);
    const path = ctx.params.path!;
    const node = await volume.stat(path);
    ctx.res.setHeader('cache-control', 'private, no-cache');
    if (node.type === 'folder') {
      const limit = intQuery(ctx, 'limit', LIST_PAGE_ENTRIES_MAX, 1, LIST_PAGE_ENTRIES_MAX);
      const [page, usage] = await Promise.all([volume.list(path, { cursor: ctx.query.get('cursor'), limit }), volume.usage()]);
      ctx.json(200, { folder: node, entries: page.entries, nextCursor: page.nextCursor, usage });
      return;
    }
    await this.download(ctx, volume, path);
  }

  private async download(ctx: RequestContext, volume: Volume, path: string): Promise<void> {
    await sendFile(ctx, await volume.openFile(path));
  }

  private async remove(ctx: RequestContext): Promise<void> {
    const volume = this.volume(ctx);
    const recursive = flag(ctx, 'recursive');
    if (flag(ctx, 'permanent')) {
      await volume.remove(ctx.params.path!, { recursive });
      ctx.empty(204);
      return;
    }
    const trashed = await volume.trash.put(ctx.params.path!, { recursive });
    ctx.json(200, { trashed, usage: await volume.usage() });
  }

  private async search(ctx: RequestContext): Promise<void> {
    const query = parseDriveQuery(ctx.query.get('q') ?? undefined, ctx.query.get('type') ?? undefined);
    const limit = intQuery(ctx, 'limit', SEARCH_PAGE_DEFAULT, 1, SEARCH_PAGE_MAX);
    const page = await this.volume(ctx).search(query, ctx.query.get('cursor'), limit);
    ctx.res.setHeader('cache-control', 'private, no-cache');
    ctx.json(200, { entries: page.entries, nextCursor: page.nextCursor });
  }

  private async zip(ctx: RequestContext): Promise<void> {
    const paths = ctx.query.getAll('path');
    const entries = await archiveEntries(this.volume(ctx), paths);
    // One item: the archive is named after it; several: after the drive.
    const base = paths.length === 1 ? paths[0]!.split('/').filter((n) => n !== '').pop()! : 'PennCloud download';
    ctx.res.status = 200;
    ctx.res.setHeader('content-type', 'application/zip');
    ctx.res.setHeader('content-disposition', contentDisposition('attachment', `${base.slice(0, 200)}.zip`));
    ctx.res.setHeader('cache-control', 'private, no-store');
    await ctx.res.stream(Readable.from(zipStream(entries)), zipLength(entries));
  }

  private async listTrash(ctx: RequestContext): Promise<void> {
    const volume = this.volume(ctx);
    const limit = intQuery(ctx, 'limit', LIST_PAGE_ENTRIES_MAX, 1, LIST_PAGE_ENTRIES_MAX);
    const page = await volume.trash.list(ctx.query.get('cursor'), limit);
    ctx.res.setHeader('cache-control', 'private, no-cache');
    ctx.json(200, { entries: page.entries, nextCursor: page.nextCursor, retentionDays: this.options.trashRetentionDays, usage: await volume.usage() });
  }

  private async restore(ctx: RequestContext): Promise<void> {
    const volume = this.volume(ctx);
    const { path } = await volume.trash.restore(ctx.params.id!);
    ctx.json(200, { node: await volume.stat(path) });
  }

  private async removeFromTrash(ctx: RequestContext): Promise<void> {
    await this.volume(ctx).trash.remove(ctx.params.id!);
    ctx.empty(204);
  }

  private async emptyTrash(ctx: RequestContext): Promise<void> {
    const volume = this.volume(ctx);
    const removed = await volume.trash.empty();
    ctx.json(200, { removed, usage: await volume.usage() });
  }

  private async createFolder(ctx: RequestContext): Promise<void> {
    const { node, created } = await this.volume(ctx).createFolder(ctx.params.path!, { parents: flag(ctx, 'parents') });
    ctx.json(created ? 201 : 200, { folder: node });
  }

  private async move(ctx: RequestContext): Promise<void> {
    const body = await ctx.readJson(MOVE_BODY_BYTES_MAX) as { from?: unknown; to?: unknown } | null;
    const from = body?.from;
    const to = body?.to;
    if (typeof from !== 'string' || typeof to !== 'string') {
      throw new PennError('BAD_REQUEST', 'the body must be {"from": "<path>", "to": "<path>"}', { reason: 'BAD_PATH' });
    }
    ctx.json(200, { node: await this.volume(ctx).move(from, to) });
  }
}

/** A 0/1 query flag (also "true"/"false"); anything else is a 400 naming it. */
function flag(ctx: RequestContext, name: string): boolean {
  const value = ctx.query.get(name);
  if (value === null || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true' || value === '') return true;
  throw new PennError('BAD_REQUEST', `query parameter ${name} must be 1 or 0`);
}

/** An integer query parameter within bounds. */
function intQuery(ctx: RequestContext, name: string, fallback: number, min: number, max: number): number {
  const value = ctx.query.get(name);
  if (value === null || value === '') return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new PennError('BAD_REQUEST', `query parameter ${name} must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}
