/**
 * `/api/tokens`: the caller's personal access tokens, managed from a signed-in session only
 * (a token cannot make or revoke tokens):
 *   GET    /api/tokens        the caller's tokens (never their secrets)
 *   POST   /api/tokens        {name, scope: "read" | "read-write", expiresInDays?} → the token,
 *                             with its secret, shown this once
 *   DELETE /api/tokens/<id>   revokes it at once
 */
import type { RequestContext } from '../router/context.js';
import { Controller, type RouteTable } from '../router/router.js';
import type { TokenService } from '../services/token-service.js';
import { refuseTokens, requireSameSite, requireSession, sessionOf, type Authenticator } from './request-guards.js';

/** Largest body of a token request: a name, a scope and a number. */
export const TOKEN_BODY_BYTES_MAX = 4 * 1024;

export class TokenController extends Controller {
  private readonly tokens: TokenService;

  constructor(auth: Authenticator) {
    super();
    this.tokens = auth.tokens;
    this.middleware.push(requireSameSite, requireSession(auth), refuseTokens);
  }

  routes(table: RouteTable): void {
    table.get('/', (ctx) => this.list(ctx));
    table.post('/', (ctx) => this.create(ctx));
    table.delete('/:id', (ctx) => this.revoke(ctx));
  }

  private async list(ctx: RequestContext): Promise<void> {
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json(200, { tokens: await this.tokens.list(sessionOf(ctx).username) });
  }

  private async create(ctx: RequestContext): Promise<void> {
    const body = await ctx.readJson(TOKEN_BODY_BYTES_MAX) as { name?: unknown; scope?: unknown; expiresInDays?: unknown } | null;
    const made = await this.tokens.create(sessionOf(ctx).username, body ?? {});
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json(201, made);
  }

  private async revoke(ctx: RequestContext): Promise<void> {
    await this.tokens.revoke(sessionOf(ctx).username, ctx.params.id!);
    ctx.empty(204);
  }
}
