/**
 * `/api/session`: log in (POST), who am I (GET), log out (DELETE).
 */
import { Controller, type RouteTable } from '../router/router.js';
import type { RequestContext } from '../router/context.js';
import { view, type Account, type UserService } from '../services/user-service.js';
import {
  callerOf, clearSessionCookie, requireSameSite, requireSession, SESSION_COOKIE, setSessionCookie, type Authenticator,
} from './request-guards.js';

/** Largest log-in body: a name and a password fit many times over. */
export const CREDENTIALS_BODY_BYTES_MAX = 8 * 1024;

/** Log-in, current session, log-out. */
export class SessionController extends Controller {
  /** @param admins the accounts of conf `admins`: their session replies say `admin: true` */
  constructor(private readonly users: UserService, private readonly auth: Authenticator, private readonly admins: readonly string[] = []) {
    super();
    this.middleware.push(requireSameSite);
  }

  routes(table: RouteTable): void {
    table.post('/', (ctx) => this.logIn(ctx));
    table.get('/', (ctx) => this.current(ctx));
    table.delete('/', (ctx) => this.logOut(ctx));
  }

  private async logIn(ctx: RequestContext): Promise<void> {
    const body = await ctx.readJson(CREDENTIALS_BODY_BYTES_MAX) as { username?: unknown; password?: unknown } | null;
    const account = await this.users.logIn(body?.username, body?.password, ctx.req.remoteAddress);
    const session = await this.auth.sessions.create(account);
    setSessionCookie(ctx, session, this.auth.sessions.cookieMaxAgeSeconds);
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.json(200, { user: this.userView(account), session: { expiresMs: session.expiresMs } });
  }

  private async current(ctx: RequestContext): Promise<void> {
    await requireSession(this.auth)(ctx, async () => {
      const session = callerOf(ctx);
      const account = await this.users.find(session.username);
      ctx.res.setHeader('cache-control', 'no-store');
      const user = account === null ? { username: session.username, admin: this.admins.includes(session.username) } : this.userView(account);
      ctx.json(200, {
        user,
        session: { expiresMs: session.expiresMs },
        // Set when the caller came with an API token rather than a session cookie.
        ...(session.token === null ? {} : { token: { id: session.token.tokenId, scope: session.token.scope } }),
      });
    });
  }

  /** The account as the API shows it, with whether it may open the admin console. */
  private userView(account: Account): ReturnType<typeof view> & { admin: boolean } {
    return { ...view(account), admin: this.admins.includes(account.username) };
  }

  private async logOut(ctx: RequestContext): Promise<void> {
    const id = ctx.cookies.get(SESSION_COOKIE);
    if (id !== undefined) await this.auth.sessions.destroy(id);
    clearSessionCookie(ctx);
    ctx.empty(204);
  }
}
