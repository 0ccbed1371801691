/**
 * The router: middleware, routes by method and pattern, and controllers mounted under a path
 * prefix. It answers what no route answers itself: 404 for an unknown path, 405 with `Allow`
 * for a known path and a wrong method, `OPTIONS` with `Allow`, and `HEAD` from `GET`
 * (RFC 9110 §9.3.2: same headers, the server drops the body).
 */
import type { HttpRequest, HttpResponse, RequestHandler } from '../http/types.js';
import { PennError } from '../protocol/errors.js';
import type { Logger } from '../protocol/log.js';
import { RequestContext } from './context.js';
import { compilePattern, joinPattern, matchPattern, type RoutePattern } from './route-pattern.js';
import { sendError } from './send-error.js';

export type Next = () => Promise<void>;
/** A final handler: must finish the response. */
export type Handler = (ctx: RequestContext) => void | Promise<void>;
/** Runs before the handler; calls `next()` to go on, or answers by itself and does not. */
export type Middleware = (ctx: RequestContext, next: Next) => void | Promise<void>;

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

interface Route {
  method: Method;
  pattern: RoutePattern;
  middleware: readonly Middleware[];
  handler: Handler;
}

/** The methods `OPTIONS *` reports for the server as a whole. */
const SERVER_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** What a controller registers its routes on (paths relative to its mount prefix). */
export interface RouteTable {
  get(pattern: string, handler: Handler): void;
  post(pattern: string, handler: Handler): void;
  put(pattern: string, handler: Handler): void;
  patch(pattern: string, handler: Handler): void;
  delete(pattern: string, handler: Handler): void;
  head(pattern: string, handler: Handler): void;
}

/**
 * An area of the API: its routes, registered under the prefix it is mounted at, and the
 * middleware that runs before each of them (authentication, for example).
 */
export abstract class Controller {
  /** Runs before every route of this controller, in order. */
  readonly middleware: Middleware[] = [];
  abstract routes(table: RouteTable): void;
}

export class Router {
  constructor(private readonly logger: Logger) {}

  private readonly global: Middleware[] = [];
  private readonly table: Route[] = [];
  private fallbackHandler: Handler | undefined;

  /** Adds middleware that runs for every request, matched or not. */
  use(middleware: Middleware): this {
    this.global.push(middleware);
    return this;
  }

  /** Adds a route; `middleware` runs between the global middleware and the handler. */
  add(method: Method, pattern: string, handler: Handler, middleware: readonly Middleware[] = []): this {
    this.table.push({ method, pattern: compilePattern(pattern), middleware, handler });
    return this;
  }

  /**
   * Handles GET and HEAD requests whose path no route matches (static files, for one). Other
   * methods on such paths stay 404.
   */
  fallback(handler: Handler): this {
    this.fallbackHandler = handler;
    return this;
  }

  /** Registers every route of `controller` under `prefix`. */
  mount(prefix: string, controller: Controller): this {
    const on = (method: Method) => (pattern: string, handler: Handler): void => {
      this.add(method, joinPattern(prefix, pattern), handler.bind(controller), controller.middleware);
    };
    controller.routes({
      get: on('GET'), post: on('POST'), put: on('PUT'), patch: on('PATCH'), delete: on('DELETE'), head: on('HEAD'),
    });
    return this;
  }

  /** The function the HTTP server calls for each request. */
  readonly handle: RequestHandler = async (req: HttpRequest, res: HttpResponse): Promise<void> => {
    const ctx = new RequestContext(req, res);
    try {
      await this.runChain(ctx, this.global, () => this.dispatch(ctx));
    } catch (err) {
      if (res.headersSent) throw err;
      sendError(ctx, err, this.logger);
    }
  };

  private async dispatch(ctx: RequestContext): Promise<void> {
    const { req, res } = ctx;
    if (req.path === '*') {
      // RFC 9110 §9.3.7: OPTIONS * asks about the server in general.
      if (req.method !== 'OPTIONS') throw new PennError('BAD_REQUEST', 'the "*" target is only valid with OPTIONS');
      res.setHeader('allow', SERVER_METHODS);
      ctx.empty(204);
      return;
    }
    const allowed = new Set<string>();
    let chosen: { route: Route; params: Record<string, string> } | undefined;
    let getFallback: { route: Route; params: Record<string, string> } | undefined;
    for (const route of this.table) {
      const params = matchPattern(route.pattern, req.path);
      if (params === null) continue;
      allowed.add(route.method);
      if (route.method === 'GET') allowed.add('HEAD');
      if (chosen === undefined && route.method === req.method) chosen = { route, params };
      if (getFallback === undefined && req.method === 'HEAD' && route.method === 'GET') getFallback = { route, params };
    }
    chosen ??= getFallback;
    if (chosen !== undefined) {
      ctx.params = chosen.params;
      const { route } = chosen;
      await this.runChain(ctx, route.middleware, async () => route.handler(ctx));
      return;
    }
    if (allowed.size === 0) {
      if (this.fallbackHandler === undefined) throw new PennError('NOT_FOUND', `no such resource: ${req.path}`);
      if (req.method === 'GET' || req.method === 'HEAD') {
        await this.fallbackHandler(ctx);
        return;
      }
      if (req.method !== 'OPTIONS') throw new PennError('NOT_FOUND', `no such resource: ${req.path}`);
      allowed.add('GET').add('HEAD');
    }
    allowed.add('OPTIONS');
    const allow = [...allowed].join(', ');
    res.setHeader('allow', allow);
    if (req.method === 'OPTIONS') {
      ctx.empty(204);
      return;
    }
    throw new PennError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; allowed: ${allow}`);
  }

  /** Runs `middleware` in order, then `last`; a middleware that skips next() ends the chain. */
  private async runChain(ctx: RequestContext, middleware: readonly Middleware[], last: () => Promise<void>): Promise<void> {
    const step = async (i: number): Promise<void> => {
      if (i === middleware.length) return last();
      let called = false;
      await middleware[i]!(ctx, () => {
        if (called) throw new Error('next() called twice');
        called = true;
        return step(i + 1);
      });
    };
    await step(0);
  }
}
