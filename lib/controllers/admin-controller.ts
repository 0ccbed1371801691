/**
 * The admin API under `/api/admin`, for the accounts listed in conf `admins` (anyone else: 403):
 *   GET  /api/admin/nodes                     every frontend and storage node with its state
 *   POST /api/admin/nodes/<id>/disable        stop a node (kvnode-N or frontend-N)
 *   POST /api/admin/nodes/<id>/restart        start it again
 *   GET  /api/admin/tablets                   the tablet map with each group's view
 *   GET  /api/admin/data?tablet=&cursor=&limit=10   raw cells, a page at a time
 */
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import { Controller, type Middleware, type RouteTable } from '../router/router.js';
import type { AdminService } from '../services/admin-service.js';
import { requireSameSite, requireSession, sessionOf, type Authenticator } from './request-guards.js';

export class AdminController extends Controller {
  constructor(private readonly admin: AdminService, auth: Authenticator, admins: readonly string[]) {
    super();
    const requireAdmin: Middleware = async (ctx, next) => {
      if (!admins.includes(sessionOf(ctx).username)) throw new PennError('FORBIDDEN', 'the admin console is for administrators only', { reason: 'NOT_ADMIN' });
      await next();
    };
    this.middleware.push(requireSameSite, requireSession(auth), requireAdmin);
  }

  routes(table: RouteTable): void {
    table.get('/nodes', async (ctx) => this.send(ctx, await this.admin.nodes()));
    table.post('/nodes/:id/disable', async (ctx) => {
      await this.admin.disable(ctx.params.id!);
      this.send(ctx, { id: ctx.params.id, disabled: true });
    });
    table.post('/nodes/:id/restart', async (ctx) => {
      await this.admin.restart(ctx.params.id!);
      this.send(ctx, { id: ctx.params.id, restarted: true });
    });
    table.get('/tablets', async (ctx) => this.send(ctx, await this.admin.tablets()));
    table.get('/data', async (ctx) => {
      this.send(ctx, await this.admin.data(ctx.query.get('tablet'), ctx.query.get('cursor'), ctx.query.get('limit')));
    });
  }

  private send(ctx: RequestContext, body: unknown): void {
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json(200, body);
  }
}
