/**
 * Sending a stored file's bytes: one byte range (`Range`, 206) or all of it, as a download or,
 * for types a browser shows safely, in place (`?inline=1`). The drive and share links use it.
 */
import mime from 'mime-types';
import { PennError } from '../protocol/errors.js';
import { contentRange, parseRange, unsatisfiedRange } from '../router/byte-range.js';
import type { RequestContext } from '../router/context.js';
import type { OpenedFile } from '../services/storage-service.js';
import { contentDisposition } from './content-disposition.js';

/** Types a browser may show in place; anything else (HTML, SVG, scripts) is always a download. */
const INLINE_TYPES = /^(image\/(png|jpeg|gif|webp|avif|bmp)|audio\/|video\/|text\/plain|application\/pdf)/;

/** Streams `file` (a range of it when asked) as the reply. */
export async function sendFile(ctx: RequestContext, file: OpenedFile): Promise<void> {
  const { node, read } = file;
  const { res } = ctx;
  const type = mime.contentType(node.name) || 'application/octet-stream';
  const inline = ctx.query.get('inline') === '1' && INLINE_TYPES.test(type);
  res.setHeader('content-type', type);
  res.setHeader('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', node.name));
  res.setHeader('x-content-type-options', 'nosniff');
  // A user's file is served from the app's origin: never let it run as a page there.
  // The app previews it in a frame (PDF), so the app's own origin may frame it; no one else.
  res.setHeader('content-security-policy', "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'self'");
  res.setHeader('x-frame-options', 'SAMEORIGIN');
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('last-modified', new Date(node.modifiedMs).toUTCString());
  const range = parseRange(ctx.req.headers.get('range'), node.size);
  if (range.kind === 'unsatisfiable') {
    res.setHeader('content-range', unsatisfiedRange(node.size));
    throw new PennError('RANGE_NOT_SATISFIABLE', `the file has ${node.size} bytes; the range asks for bytes outside them`);
  }
  const { start, end } = range.kind === 'range' ? range.range : { start: 0, end: node.size - 1 };
  if (range.kind === 'range') {
    res.status = 206;
    res.setHeader('content-range', contentRange(range.range, node.size));
  } else {
    res.status = 200;
  }
  await res.stream(read(start, end), Math.max(0, end - start + 1));
}
