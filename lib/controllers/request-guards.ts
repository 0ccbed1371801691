/**
 * What every API request is checked for before its handler runs: that a state-changing request
 * could not have come from another site's page, and that it carries a live session or API token.
 *
 * Cross-site requests: the session cookie is SameSite=Lax, so browsers leave it off cross-site
 * POSTs; on top of that every state-changing request must carry `Content-Type:
 * application/json` or the header `X-PennCloud-Request: 1`. An HTML form can send neither, and
 * a script on another origin cannot without a CORS preflight, which PennCloud never approves.
 *
 * API tokens: a request with an `Authorization` header (`Bearer TOKEN`, or Basic with the
 * username and a token) is judged by that header alone, never by a cookie, and needs no mark.
 * A browser adds that header by itself only after a Basic or Digest challenge, which PennCloud
 * never sends (its 401s name the Bearer scheme), and another site's page cannot add it without
 * a preflight; so a token request is one its sender made on purpose.
 */
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import type { Middleware } from '../router/router.js';
import type { Session, SessionService } from '../services/session-service.js';
import { looksLikeToken, type TokenCaller, type TokenService } from '../services/token-service.js';

/** What recognises a caller: session cookies and API tokens. */
export interface Authenticator {
  sessions: SessionService;
  tokens: TokenService;
}

/** A signed-in caller: the session, and the token it came with (null for a cookie session). */
export interface Caller extends Session {
  token: TokenCaller | null;
}

/** Longest Authorization header value taken apart (a token is 57 characters). */
export const AUTHORIZATION_CHARS_MAX = 1024;

/** The session cookie's name. */
export const SESSION_COOKIE = 'penncloud_session';
/** The header that marks a request as sent by PennCloud's own app (or a deliberate client). */
export const REQUEST_MARK_HEADER = 'x-penncloud-request';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SESSION_STATE = 'session';

/**
 * Refuses a state-changing request that carries neither a JSON content type nor the mark (a
 * request with an Authorization header is left to `requireSession`, which checks the token).
 */
export const requireSameSite: Middleware = async (ctx, next) => {
  if (!SAFE_METHODS.has(ctx.req.method) && ctx.req.headers.get('authorization') === undefined) {
    const type = (ctx.req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && ctx.req.headers.get(REQUEST_MARK_HEADER) !== '1') {
      throw new PennError('FORBIDDEN',
        'this request changes state: send it as JSON (Content-Type: application/json) or with the header X-PennCloud-Request: 1',
        { reason: 'CROSS_SITE_CHECK' });
    }
  }
  await next();
};

/**
 * Middleware that lets only signed-in callers through: a live session cookie, or a live API
 * token in the Authorization header (401 otherwise). A read-only token may only read (403).
 */
export function requireSession(auth: Authenticator): Middleware {
  return async (ctx, next) => {
    const header = ctx.req.headers.get('authorization');
    const caller = header === undefined ? await cookieCaller(ctx, auth.sessions) : await tokenCaller(ctx, auth.tokens, header);
    if (caller.token !== null && caller.token.scope === 'read' && !SAFE_METHODS.has(ctx.req.method)) {
      throw new PennError('FORBIDDEN', `this API token is read-only (scope "read"): ${ctx.req.method} needs a token with scope "read-write"`,
        { reason: 'TOKEN_READ_ONLY' });
    }
    ctx.state.set(SESSION_STATE, caller);
    await next();
  };
}

/**
 * Middleware behind `requireSession` for what only a password-holder may do (change the
 * password, make or revoke tokens): a token, even a read-write one, is refused (403).
 */
export const refuseTokens: Middleware = async (ctx, next) => {
  if (callerOf(ctx).token !== null) {
    throw new PennError('FORBIDDEN', 'an API token cannot do this; sign in with your password (a session cookie) to manage tokens or the password',
      { reason: 'TOKEN_NOT_ALLOWED' });
  }
  await next();
};

async function cookieCaller(ctx: RequestContext, sessions: SessionService): Promise<Caller> {
  const id = ctx.cookies.get(SESSION_COOKIE);
  const session = id === undefined ? null : await sessions.resolve(id);
  if (session === null) {
    // A cookie naming an ended session is told to go, so the browser stops sending it.
    if (id !== undefined) clearSessionCookie(ctx);
    throw new PennError('UNAUTHENTICATED', 'sign in first (no valid session cookie)', { reason: 'NO_SESSION' });
  }
  return { ...session, token: null };
}

async function tokenCaller(ctx: RequestContext, tokens: TokenService, header: string): Promise<Caller> {
  // RFC 6750 §3: a Bearer challenge, which (unlike Basic) makes no browser ask for a password.
  ctx.res.setHeader('www-authenticate', 'Bearer realm="PennCloud"');
  const refuse = (message: string, reason: string): PennError => new PennError('UNAUTHENTICATED', message, { reason });
  const match = header.length <= AUTHORIZATION_CHARS_MAX ? /^(\S+) +(\S+)\s*$/.exec(header) : null;
  const scheme = match?.[1]!.toLowerCase();
  let secret: string;
  let username: string | null = null;
  if (match !== null && scheme === 'bearer') {
    secret = match[2]!;
  } else if (match !== null && scheme === 'basic') {
    const decoded = Buffer.from(match[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw refuse('the Basic credentials are not "username:token" in base64', 'BAD_AUTHORIZATION');
    username = decoded.slice(0, colon).trim().toLowerCase();
    secret = decoded.slice(colon + 1);
    if (!looksLikeToken(secret)) {
      throw refuse('Basic authentication takes an API token, not the account password: make one on the account page (or POST /api/tokens while signed in)',
        'PASSWORD_NOT_ACCEPTED');
    }
  } else {
    throw refuse('the Authorization header is not "Bearer TOKEN" or "Basic base64(username:TOKEN)"', 'BAD_AUTHORIZATION');
  }
  const token = await tokens.authenticate(secret, username);
  if (token === null) {
    throw refuse(`the API token is not valid: unknown, revoked, expired${username === null ? '' : ', or not the token of that user'}`, 'BAD_TOKEN');
  }
  ctx.res.removeHeader('www-authenticate');
  return { id: `token:${token.tokenId}`, username: token.username, createdMs: token.createdMs, expiresMs: token.expiresMs ?? Number.MAX_SAFE_INTEGER, token };
}

/** The caller `requireSession` found (a handler behind it may rely on it). */
export function callerOf(ctx: RequestContext): Caller {
  const caller = ctx.state.get(SESSION_STATE) as Caller | undefined;
  if (caller === undefined) throw new Error('callerOf() used on a route without requireSession');
  return caller;
}

/** The session `requireSession` found (a handler behind it may rely on it). */
export function sessionOf(ctx: RequestContext): Session {
  return callerOf(ctx);
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
