/**
 * The single-page app's files (spa/), served for any GET that no API route answers. Paths
 * under /api/ are never files: they stay 404 so API clients get a JSON error, not a page.
 */
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from '../router/context.js';
import { serveFile } from '../router/static-files.js';

export class StaticController {
  constructor(private readonly root: string) {}

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
    await serveFile(ctx, this.root, decoded);
  };
}
