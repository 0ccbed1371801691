/**
 * Serving files from a directory: content types from mime-types, `ETag` and `Last-Modified`
 * with conditional requests (304), a single byte `Range` (206/416), and no way out of the root.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import mime from 'mime-types';
import { PennError } from '../protocol/errors.js';
import type { RequestContext } from './context.js';
import { contentRange, parseRange, unsatisfiedRange } from './byte-range.js';

export interface StaticOptions {
  /** File served for a directory. */
  indexFile?: string;
  /** Cache-Control for files whose name carries a content hash (e.g. app.3f9a1c2e.js). */
  immutableCacheControl?: string;
  /** Cache-Control for everything else: revalidate each time (ETag makes it cheap). */
  defaultCacheControl?: string;
}

/** Names such as `main.8c2d3f4a.js` or `app-5FQ2ZK3B.css` (esbuild's `[name]-[hash]`). */
const HASHED_NAME = /[.-][0-9A-Za-z]{8,}\.[a-z0-9]+$/;

/**
 * Resolves `relativePath` (already percent-decoded, "/"-separated) inside `root`, or throws
 * NOT_FOUND. Rejects NUL bytes, backslashes and any `..` segment outright, and checks the real
 * path (symbolic links resolved) is still inside the root.
 */
export async function resolveInsideRoot(root: string, relativePath: string): Promise<string> {
  const segments = relativePath.split('/').filter((s) => s !== '' && s !== '.');
  if (relativePath.includes('\0') || relativePath.includes('\\') || segments.some((s) => s === '..')) {
    throw new PennError('NOT_FOUND', 'no such file');
  }
  const rootReal = await realpath(root);
  const candidate = resolve(rootReal, ...segments);
  if (candidate !== rootReal && !candidate.startsWith(rootReal + sep)) throw new PennError('NOT_FOUND', 'no such file');
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new PennError('NOT_FOUND', 'no such file');
  }
  if (real !== rootReal && !real.startsWith(rootReal + sep)) throw new PennError('NOT_FOUND', 'no such file');
  return real;
}

/** Answers a GET or HEAD for `relativePath` under `root`. */
export async function serveFile(ctx: RequestContext, root: string, relativePath: string, options: StaticOptions = {}): Promise<void> {
  let file = await resolveInsideRoot(root, relativePath);
  let info = await stat(file);
  if (info.isDirectory()) {
    file = await resolveInsideRoot(root, `${relativePath}/${options.indexFile ?? 'index.html'}`);
    info = await stat(file);
  }
  if (!info.isFile()) throw new PennError('NOT_FOUND', 'no such file');

  const { req, res } = ctx;
  const size = info.size;
  const etag = `"${size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
  res.setHeader('etag', etag);
  res.setHeader('last-modified', lastModified.toUTCString());
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('cache-control', HASHED_NAME.test(file)
    ? options.immutableCacheControl ?? 'public, max-age=31536000, immutable'
    : options.defaultCacheControl ?? 'no-cache');
  res.setHeader('content-type', mime.contentType(extname(file)) || 'application/octet-stream');

  if (notModified(req.headers.get('if-none-match'), req.headers.get('if-modified-since'), etag, lastModified)) {
    res.removeHeader('content-type');
    ctx.empty(304);
    return;
  }

  const rangeHeader = rangeApplies(req.headers.get('if-range'), etag, lastModified) ? req.headers.get('range') : undefined;
  const wanted = parseRange(rangeHeader, size);
  if (wanted.kind === 'unsatisfiable') {
    res.setHeader('content-range', unsatisfiedRange(size));
    throw new PennError('RANGE_NOT_SATISFIABLE', `the range "${rangeHeader}" is outside the ${size} bytes of this file`);
  }
  const start = wanted.kind === 'range' ? wanted.range.start : 0;
  const end = wanted.kind === 'range' ? wanted.range.end : size - 1;
  if (wanted.kind === 'range') {
    res.status = 206;
    res.setHeader('content-range', contentRange(wanted.range, size));
  } else {
    res.status = 200;
  }
  const length = size === 0 ? 0 : end - start + 1;
  if (req.method === 'HEAD' || length === 0) {
    res.setHeader('content-length', length);
    res.end();
    return;
  }
  await res.stream(createReadStream(file, { start, end }), length);
}

/** RFC 9110 §13.1.2 (weak comparison for If-None-Match) and §13.1.3; §13.2.2 gives the order. */
function notModified(ifNoneMatch: string | undefined, ifModifiedSince: string | undefined, etag: string, lastModified: Date): boolean {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return true;
    const strip = (t: string): string => t.trim().replace(/^W\//, '');
    return ifNoneMatch.split(',').some((t) => strip(t) === etag);
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && lastModified.getTime() <= since;
  }
  return false;
}

/** RFC 9110 §13.1.5: a Range is honoured only if If-Range (when sent) still matches. */
function rangeApplies(ifRange: string | undefined, etag: string, lastModified: Date): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === lastModified.getTime();
}
