/**
 * What a route handler works with: the request, the response, the matched parameters, and
 * small helpers for the things every API does (query, cookies, JSON in and out).
 */
import type { HttpRequest, HttpResponse } from '../http/types.js';
import { PennError } from '../protocol/errors.js';
import { parseCookies, serializeCookie, type CookieOptions } from './cookies.js';

/** Largest JSON request body read by default; bigger ones get 413. */
export const JSON_BODY_BYTES_MAX = 1024 * 1024;

export class RequestContext {
  /** Route parameters, percent-decoded. */
  params: Record<string, string> = {};
  /** Values that middleware hands to later handlers (e.g. the signed-in user). */
  readonly state = new Map<string, unknown>();
  private queryCache: URLSearchParams | undefined;
  private cookieCache: Map<string, string> | undefined;

  constructor(readonly req: HttpRequest, readonly res: HttpResponse) {}

  /** The query string, parsed. */
  get query(): URLSearchParams {
    this.queryCache ??= new URLSearchParams(this.req.query);
    return this.queryCache;
  }

  /** Request cookies by name. */
  get cookies(): Map<string, string> {
    this.cookieCache ??= parseCookies(this.req.headers.getAll('cookie'));
    return this.cookieCache;
  }

  /** Adds a `Set-Cookie` header (earlier ones are kept). */
  setCookie(name: string, value: string, options?: CookieOptions): void {
    const line = serializeCookie(name, value, options);
    const existing = this.res.getHeader('set-cookie');
    const list = existing === undefined ? [] : typeof existing === 'string' ? [existing] : [...existing];
    this.res.setHeader('set-cookie', [...list, line]);
  }

  /** Sends `value` as JSON with the given status. */
  json(status: number, value: unknown): void {
    this.res.status = status;
    this.res.setHeader('content-type', 'application/json; charset=utf-8');
    this.res.end(JSON.stringify(value));
  }

  /** Sends plain text (or another textual type) with the given status. */
  text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
    this.res.status = status;
    this.res.setHeader('content-type', contentType);
    this.res.end(body);
  }

  /** Sends a status with no body (204, 201 without content, ...). */
  empty(status: number): void {
    this.res.status = status;
    this.res.end();
  }

  /**
   * Reads and parses a JSON body. The content type must be application/json (which a
   * cross-site HTML form cannot send without a CORS preflight); bigger than `bytesMax` is 413.
   */
  async readJson(bytesMax = JSON_BODY_BYTES_MAX): Promise<unknown> {
    const type = (this.req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new PennError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON (Content-Type: application/json)');
    }
    const bytes = await this.readBody(bytesMax);
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      // The parser's own message quotes the input, which may hold a password: say only where.
      const at = /position (\d+)/.exec((err as Error).message);
      throw new PennError('BAD_REQUEST', `the request body is not valid JSON${at ? ` (near byte ${at[1]})` : ''}`);
    }
  }

  /** Reads the whole body into memory, refusing (413) past `bytesMax`. For small bodies only. */
  async readBody(bytesMax: number): Promise<Buffer> {
    const declared = this.req.bodyLength;
    if (declared !== null && declared > bytesMax) {
      throw new PennError('TOO_LARGE', `the request body is ${declared} bytes; at most ${bytesMax} are accepted here`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of this.req.body) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > bytesMax) {
        this.req.body.destroy();
        throw new PennError('TOO_LARGE', `the request body is larger than ${bytesMax} bytes`);
      }
      chunks.push(buf);
    }
    return Buffer.concat(chunks, total);
  }
}
