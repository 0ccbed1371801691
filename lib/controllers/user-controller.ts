/**
 * `/api/users`: sign up (POST /api/users) and change one's password
 * (PUT /api/users/me/password).
 */
import { Controller, type RouteTable } from '../router/router.js';
import type { RequestContext } from '../router/context.js';
import { view, type UserService } from '../services/user-service.js';
import { refuseTokens, requireSameSite, requireSession, sessionOf, setSessionCookie, type Authenticator } from './request-guards.js';
import { CREDENTIALS_BODY_BYTES_MAX } from './session-controller.js';

/** Sign-up and password change. */
export class UserController extends Controller {
  constructor(private readonly users: UserService, private readonly auth: Authenticator) {
    super();
    this.middleware.push(requireSameSite);
  }

  routes(table: RouteTable): void {
    table.post('/', (ctx) => this.signUp(ctx));
    table.put('/me/password', (ctx) => this.changePassword(ctx));
  }

  private async signUp(ctx: RequestContext): Promise<void> {
    const body = await ctx.readJson(CREDENTIALS_BODY_BYTES_MAX) as { username?: unknown; password?: unknown } | null;
    const account = await this.users.signUp(body?.username, body?.password);
    ctx.json(201, { user: account });
  }

  /**
   * Every session of the account ends (the account's session epoch moves on); the caller gets
   * a fresh session cookie so the browser that changed the password stays signed in.
   */
  private async changePassword(ctx: RequestContext): Promise<void> {
    await requireSession(this.auth)(ctx, async () => refuseTokens(ctx, async () => {
      const body = await ctx.readJson(CREDENTIALS_BODY_BYTES_MAX) as { oldPassword?: unknown; newPassword?: unknown } | null;
      const { username } = sessionOf(ctx);
      const account = await this.users.changePassword(username, body?.oldPassword, body?.newPassword, ctx.req.remoteAddress);
      const session = await this.auth.sessions.create(account);
      setSessionCookie(ctx, session, this.auth.sessions.cookieMaxAgeSeconds);
      ctx.res.setHeader('cache-control', 'no-store');
      ctx.json(200, { user: view(account), session: { expiresMs: session.expiresMs } });
    }));
  }
}
