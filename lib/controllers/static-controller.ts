/**
 * The single-page app's files (dist/spa), served for any GET that no API route answers. Paths
 * under /api/ are never files: they stay 404 so API clients get a JSON error, not a page.
 *
 * The app routes in the browser (/drive/a/b, /mail/inbox, /admin): a GET for a path with no
 * file extension that matches no file gets the app's page, index.html, which then shows the
 * right screen. The page's `<meta name="penncloud-...">` tags are filled from the options, so
 * the app learns facts of the deployment (the dispatcher's URL) without an extra request.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isPennError, PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import { resolveInsideRoot, serveFile } from '../router/static-files.js';

/** The app's page, served for the root and for every in-app path. */
export const APP_PAGE = 'index.html';
/** Largest app page we read into memory to fill its meta tags (it is a few hundred bytes). */
export const APP_PAGE_BYTES_MAX = 256 * 1024;

export interface StaticControllerOptions {
  /**
   * Values for the page's `<meta name="penncloud-NAME" content="">` tags, by NAME. Only tags
   * present in the page with an empty content are filled.
   */
  pageMeta?: Readonly<Record<string, string>>;
}

export class StaticController {
  constructor(private readonly root: string, private readonly options: StaticControllerOptions = {}) {}

  /** The router's fallback handler. */
  readonly serve = async (ctx: RequestContext): Promise<void> => {
    const path = ctx.req.path;
    if (path === '/api' || path.startsWith('/api/')) throw new PennError('NOT_FOUND', `no such resource: ${path}`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      throw new PennError('BAD_REQUEST', 'the path is not valid percent-encoding');
    }
    if (this.isAppPage(decoded)) {
      await this.serveAppPage(ctx);
      return;
    }
    try {
      await serveFile(ctx, this.root, decoded);
    } catch (err) {
      // An in-app path (no extension) that is no file: the app itself shows that screen.
      if (!isPennError(err, 'NOT_FOUND') || extname(decoded) !== '') throw err;
      await this.serveAppPage(ctx);
    }
  };

  private isAppPage(decoded: string): boolean {
    if (this.options.pageMeta === undefined) return false;
    return decoded === '/' || decoded === `/${APP_PAGE}`;
  }

  /**
   * index.html, always revalidated (`no-cache`): it names the hashed assets of the current
   * build, so a browser must never keep an old one. With page meta, the filled page is sent
   * with an ETag of its own bytes.
   */
  private async serveAppPage(ctx: RequestContext): Promise<void> {
    if (this.options.pageMeta === undefined) {
      await serveFile(ctx, this.root, `/${APP_PAGE}`, { defaultCacheControl: 'no-cache' });
      return;
    }
    const file = await resolveInsideRoot(this.root, `/${APP_PAGE}`);
    const template = await readFile(file);
    if (template.length > APP_PAGE_BYTES_MAX) throw new PennError('INTERNAL', `${APP_PAGE} is larger than ${APP_PAGE_BYTES_MAX} bytes`);
    const page = fillPageMeta(template.toString('utf8'), this.options.pageMeta);
    const etag = `"${createHash('sha256').update(page).digest('hex').slice(0, 32)}"`;
    const { res } = ctx;
    res.setHeader('etag', etag);
    res.setHeader('cache-control', 'no-cache');
    const ifNoneMatch = ctx.req.headers.get('if-none-match');
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      ctx.empty(304);
      return;
    }
    if (ctx.req.method === 'HEAD') {
      res.status = 200;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(page));
      res.end();
      return;
    }
    ctx.text(200, page, 'text/html; charset=utf-8');
  }
}

/** Fills every empty `<meta name="penncloud-NAME" content="">` whose NAME has a value. */
export function fillPageMeta(page: string, values: Readonly<Record<string, string>>): string {
  return page.replace(/<meta name="penncloud-([a-z0-9-]+)" content="">/g, (tag, name: string) => {
    const value = values[name];
    return value === undefined ? tag : `<meta name="penncloud-${name}" content="${escapeAttribute(value)}">`;
  });
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
