/**
 * What every API request is checked for before its handler runs: that a state-changing request
 * could not have come from another site's page, and that it carries a live session.
 *
 * Cross-site requests: the session cookie is SameSite=Lax, so browsers leave it off cross-site
 * POSTs; on top of that every state-changing request must carry `Content-Type:
 * application/json` or the header `X-PennCloud-Request: 1`. An HTML form can send neither, and
 * a script on another origin cannot without a CORS preflight, which PennCloud never approves.
 */
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import type { Middleware } from '../router/router.js';
import type { Session, SessionService } from '../services/session-service.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'penncloud_session';
/** The header that marks a request as sent by PennCloud's own app (or a deliberate client). */
export const REQUEST_MARK_HEADER = 'x-penncloud-request';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SESSION_STATE = 'session';

/** Refuses a state-changing request that carries neither a JSON content type nor the mark. */
export const requireSameSite: Middleware = async (ctx, next) => {
  if (!SAFE_METHODS.has(ctx.req.method)) {
    const type = (ctx.req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && ctx.req.headers.get(REQUEST_MARK_HEADER) !== '1') {
      throw new PennError('FORBIDDEN',
        'this request changes state: send it as JSON (Content-Type: application/json) or with the header X-PennCloud-Request: 1',
        { reason: 'CROSS_SITE_CHECK' });
    }
  }
  await next();
};

/** Middleware that lets only signed-in users through (401 otherwise). */
export function requireSession(sessions: SessionService): Middleware {
  return async (ctx, next) => {
    const id = ctx.cookies.get(SESSION_COOKIE);
    const session = id === undefined ? null : await sessions.resolve(id);
    if (session === null) {
      // A cookie naming an ended session is told to go, so the browser stops sending it.
      if (id !== undefined) clearSessionCookie(ctx);
      throw new PennError('UNAUTHENTICATED', 'sign in first (no valid session cookie)', { reason: 'NO_SESSION' });
    }
    ctx.state.set(SESSION_STATE, session);
    await next();
  };
}

/** The session `requireSession` found (a handler behind it may rely on it). */
export function sessionOf(ctx: RequestContext): Session {
  const session = ctx.state.get(SESSION_STATE) as Session | undefined;
  if (session === undefined) throw new Error('sessionOf() used on a route without requireSession');
  return session;
}

/**
 * Sets the session cookie: HttpOnly, SameSite=Lax, Path=/, living as long as the session, and
 * Secure over HTTPS (a browser then never sends it over plain HTTP).
 */
export function setSessionCookie(ctx: RequestContext, session: Session, maxAgeSeconds: number): void {
  ctx.setCookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Lax', path: '/', maxAgeSeconds, secure: ctx.req.secure });
}

/** Tells the browser to forget the session cookie. */
export function clearSessionCookie(ctx: RequestContext): void {
  ctx.setCookie(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'Lax', path: '/', maxAgeSeconds: 0, secure: ctx.req.secure });
}
