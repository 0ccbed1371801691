/** Writes an error reply through the HTTP layer's one table (lib/http/error-status.ts). */
import { errorReply } from '../http/error-status.js';
import type { Logger } from '../protocol/log.js';
import type { RequestContext } from './context.js';

/**
 * Answers with the reply `err` maps to. Headers already set that belong to the error (Allow on
 * a 405, Content-Range on a 416) are kept; those of the aborted success reply are dropped.
 */
export function sendError(ctx: RequestContext, err: unknown, logger: Logger): void {
  const reply = errorReply(err, ctx.req.id, logger);
  const { res } = ctx;
  for (const name of ['etag', 'last-modified', 'content-length', 'content-disposition', 'cache-control', 'accept-ranges']) {
    res.removeHeader(name);
  }
  if (reply.status !== 405) res.removeHeader('allow');
  if (reply.status !== 416) res.removeHeader('content-range');
  res.setHeader('cache-control', 'no-store');
  ctx.text(reply.status, reply.body, 'application/json; charset=utf-8');
}
