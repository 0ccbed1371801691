/**
 * Share links. The owner's side, behind a session or API token, under `/api/shares`:
 *   GET    /api/shares            the caller's links, each with where its node is now
 *   POST   /api/shares            {path, expiresInDays?, password?} → 201 the new link
 *   DELETE /api/shares/<token>    revokes it at once
 *   GET    /api/shares/users      whom the caller shares which folders with
 *   POST   /api/shares/users      {path, user}: shares a folder read-only with another user
 *   DELETE /api/shares/users/<user>/<folder id>   ends that user's access
 * A user's side of folders shared with them, under `/api/shared`:
 *   GET    /api/shared                        the folders shared with the caller
 *   GET    /api/shared/<owner>/<id>?path=     what is in one (a file's description, or a folder page)
 *   GET    /api/shared/<owner>/<id>/content?path=   a file's bytes (Range works)
 * The visitor's side, with no account, under `/api/public/shares/<token>` (the app's page
 * `/s/<token>` uses it):
 *   GET    /api/public/shares/<token>?path=/sub   what the link shows: the file, or a folder page
 *   GET    /api/public/shares/<token>/content?path=/sub/file[&inline=1]   the bytes (Range works)
 *   POST   /api/public/shares/<token>/unlock {password}   sets the cookie that opens a protected link
 */
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import { Controller, type RouteTable } from '../router/router.js';
import type { ShareService } from '../services/share-service.js';
import { LIST_PAGE_ENTRIES_MAX, type ReadOnlyTree } from '../services/storage-service.js';
import type { FolderGrants } from '../services/folder-grants.js';
import { sendFile } from './file-download.js';
import { requireSameSite, requireSession, sessionOf, type Authenticator } from './request-guards.js';

/** Largest body of a share request: a path, a number and a password. */
export const SHARE_BODY_BYTES_MAX = 8 * 1024;
/** The cookie that carries a visitor's unlock proof, scoped to one link's API path. */
export const SHARE_UNLOCK_COOKIE = 'penncloud_share';

/** The owner's side: make, list and revoke links. */
export class ShareController extends Controller {
  constructor(private readonly shares: ShareService, private readonly grants: FolderGrants, auth: Authenticator) {
    super();
    this.middleware.push(requireSameSite, requireSession(auth));
  }

  routes(table: RouteTable): void {
    table.get('/users', async (ctx) => {
      ctx.res.setHeader('cache-control', 'no-store');
      ctx.json(200, { grants: await this.grants.grantedBy(sessionOf(ctx).username) });
    });
    table.post('/users', async (ctx) => {
      const body = await ctx.readJson(SHARE_BODY_BYTES_MAX) as { path?: unknown; user?: unknown } | null;
      ctx.json(201, { grant: await this.grants.grant(sessionOf(ctx).username, body?.path, body?.user) });
    });
    table.delete('/users/:user/:id', async (ctx) => {
      await this.grants.revoke(sessionOf(ctx).username, ctx.params.user!, ctx.params.id!);
      ctx.empty(204);
    });
    table.get('/', async (ctx) => {
      ctx.res.setHeader('cache-control', 'no-store');
      ctx.json(200, { shares: await this.shares.list(sessionOf(ctx).username) });
    });
    table.post('/', async (ctx) => {
      const body = await ctx.readJson(SHARE_BODY_BYTES_MAX) as { path?: unknown; expiresInDays?: unknown; password?: unknown } | null;
      ctx.json(201, { share: await this.shares.create(sessionOf(ctx).username, body?.path, body ?? {}) });
    });
    table.delete('/:token', async (ctx) => {
      await this.shares.revoke(sessionOf(ctx).username, ctx.params.token!);
      ctx.empty(204);
    });
  }
}

/** Folders other users shared with the caller, read-only. */
export class SharedWithMeController extends Controller {
  constructor(private readonly grants: FolderGrants, auth: Authenticator) {
    super();
    this.middleware.push(requireSameSite, requireSession(auth));
  }

  routes(table: RouteTable): void {
    table.get('/', async (ctx) => {
      ctx.res.setHeader('cache-control', 'no-store');
      ctx.json(200, { folders: await this.grants.sharedWith(sessionOf(ctx).username) });
    });
    table.get('/:owner/:id', async (ctx) => {
      const tree = await this.grants.open(sessionOf(ctx).username, ctx.params.owner!, ctx.params.id!);
      await showTree(ctx, tree, { name: tree.base.name, type: 'folder', owner: ctx.params.owner! });
    });
    table.get('/:owner/:id/content', async (ctx) => {
      const tree = await this.grants.open(sessionOf(ctx).username, ctx.params.owner!, ctx.params.id!);
      ctx.res.setHeader('cache-control', 'private, no-cache');
      await sendFile(ctx, await tree.openFile(ctx.query.get('path') ?? '/'));
    });
  }
}

/** Answers what `tree` holds at `?path=`: a file's description, or a page of a folder. */
async function showTree(ctx: RequestContext, tree: ReadOnlyTree, about: Record<string, unknown>): Promise<void> {
  const path = ctx.query.get('path') ?? '/';
  const node = await tree.stat(path);
  ctx.res.setHeader('cache-control', 'private, no-cache');
  if (node.type === 'file') {
    ctx.json(200, { share: about, file: node });
    return;
  }
  const page = await tree.list(path, { cursor: ctx.query.get('cursor'), limit: LIST_PAGE_ENTRIES_MAX });
  ctx.json(200, { share: about, folder: node, entries: page.entries, nextCursor: page.nextCursor });
}

/** The visitor's side: open a link, read what it shares, give its password. */
export class PublicShareController extends Controller {
  constructor(private readonly shares: ShareService) {
    super();
    this.middleware.push(requireSameSite);
  }

  routes(table: RouteTable): void {
    table.get('/:token', (ctx) => this.show(ctx));
    table.get('/:token/content', (ctx) => this.content(ctx));
    table.post('/:token/unlock', (ctx) => this.unlock(ctx));
  }

  private async show(ctx: RequestContext): Promise<void> {
    const share = await this.open(ctx);
    await showTree(ctx, share.tree, { name: share.name, type: share.type, expiresMs: share.expiresMs });
  }

  private async content(ctx: RequestContext): Promise<void> {
    const share = await this.open(ctx);
    const path = ctx.query.get('path') ?? '/';
    if (share.type === 'folder' && path.split('/').every((s) => s === '')) {
      throw new PennError('CONFLICT', 'this link shares a folder: name a file in it with ?path=', { reason: 'IS_A_FOLDER' });
    }
    ctx.res.setHeader('cache-control', 'private, no-cache');
    await sendFile(ctx, await share.tree.openFile(path));
  }

  private async unlock(ctx: RequestContext): Promise<void> {
    const token = ctx.params.token!;
    const body = await ctx.readJson(SHARE_BODY_BYTES_MAX) as { password?: unknown } | null;
    const { proof, expiresMs } = await this.shares.unlock(token, body?.password, ctx.req.remoteAddress);
    ctx.setCookie(SHARE_UNLOCK_COOKIE, proof, {
      httpOnly: true, sameSite: 'Lax', path: `/api/public/shares/${token}`, maxAgeSeconds: Math.max(1, Math.floor((expiresMs - Date.now()) / 1000)),
    });
    ctx.empty(204);
  }

  private open(ctx: RequestContext): ReturnType<ShareService['open']> {
    return this.shares.open(ctx.params.token!, ctx.cookies.get(SHARE_UNLOCK_COOKIE) ?? null);
  }
}
