/**
 * The drive, addressed by path under `/api`:
 *   PUT    /api/files/<path>      the raw body creates or replaces a file (`curl -T` works)
 *   POST   /api/files/<folder>    multipart/form-data: one or more files into a folder
 *   GET    /api/files/<path>      a file's bytes (Range: one byte range), or a folder as JSON
 *   DELETE /api/files/<path>      deletes (a folder with entries needs ?recursive=1)
 *   POST   /api/folders/<path>    creates a folder (?parents=1 makes missing parents)
 *   POST   /api/move {from, to}   renames or moves
 * Each user has one volume, "drive:<username>": paths are always inside the caller's own
 * tree, so there is no way to name another user's file.
 */
import mime from 'mime-types';
import { PennError } from '../protocol/errors.js';
import { contentRange, parseRange, unsatisfiedRange } from '../router/byte-range.js';
import type { RequestContext } from '../router/context.js';
import { Controller, type RouteTable } from '../router/router.js';
import type { SessionService } from '../services/session-service.js';
import { LIST_PAGE_ENTRIES_MAX, type StorageService, type Volume } from '../services/storage-service.js';
import { contentDisposition } from './content-disposition.js';
import { receiveMultipart } from './multipart-upload.js';
import { requireSameSite, requireSession, sessionOf } from './request-guards.js';

/** Largest JSON body of /api/move: two paths. */
export const MOVE_BODY_BYTES_MAX = 64 * 1024;

/**
 * Bytes of a multipart body that are not file content (boundaries, part headers, small
 * fields): the slack the early quota check of a folder upload allows.
 */
export const MULTIPART_FRAMING_BYTES_MAX = 64 * 1024;

/** Types a browser may show in place; anything else (HTML, SVG, scripts) is always a download. */
const INLINE_TYPES = /^(image\/(png|jpeg|gif|webp|avif|bmp)|audio\/|video\/|text\/plain|application\/pdf)/;

/** The drive's settings (conf `drive`) the controller applies. */
export interface DriveOptions {
  /** Bytes each user may store. */
  quotaBytes: number;
}

/** The drive routes, each behind the cross-site check and a session. */
export class DriveController extends Controller {
  constructor(private readonly storage: StorageService, sessions: SessionService, private readonly options: DriveOptions) {
    super();
    this.middleware.push(requireSameSite, requireSession(sessions));
  }

  routes(table: RouteTable): void {
    table.put('/files/*path', (ctx) => this.putFile(ctx));
    table.post('/files/*path', (ctx) => this.upload(ctx));
    table.get('/files/*path', (ctx) => this.get(ctx));
    table.delete('/files/*path', (ctx) => this.remove(ctx));
    table.post('/folders/*path', (ctx) => this.createFolder(ctx));
    table.post('/move', (ctx) => this.move(ctx));
  }

  private volume(ctx: RequestContext): Volume {
    return this.storage.volume(`drive:${sessionOf(ctx).username}`, this.options.quotaBytes);
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
    const { node, read } = await volume.openFile(path);
    const { res } = ctx;
    const type = mime.contentType(node.name) || 'application/octet-stream';
    const inline = ctx.query.get('inline') === '1' && INLINE_TYPES.test(type);
    res.setHeader('content-type', type);
    res.setHeader('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', node.name));
    res.setHeader('x-content-type-options', 'nosniff');
    // A user's file is served from the app's origin: never let it run as a page there.
    // The app previews it in a frame (PDF), so the app's own origin may frame it; no one else.
    res.setHeader('content-security-policy', "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'self'");
    res.setHeader('x-frame-options', 'SAMEORIGIN');
    res.setHeader('accept-ranges', 'bytes');
    res.setHeader('last-modified', new Date(node.modifiedMs).toUTCString());
    const range = parseRange(ctx.req.headers.get('range'), node.size);
    if (range.kind === 'unsatisfiable') {
      res.setHeader('content-range', unsatisfiedRange(node.size));
      throw new PennError('RANGE_NOT_SATISFIABLE', `the file has ${node.size} bytes; the range asks for bytes outside them`);
    }
    const { start, end } = range.kind === 'range' ? range.range : { start: 0, end: node.size - 1 };
    if (range.kind === 'range') {
      res.status = 206;
      res.setHeader('content-range', contentRange(range.range, node.size));
    } else {
      res.status = 200;
    }
    await res.stream(read(start, end), Math.max(0, end - start + 1));
  }

  private async remove(ctx: RequestContext): Promise<void> {
    await this.volume(ctx).remove(ctx.params.path!, { recursive: flag(ctx, 'recursive') });
    ctx.empty(204);
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
