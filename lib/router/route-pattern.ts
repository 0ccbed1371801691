/**
 * Route patterns in the Express style: literal segments, `:name` parameters (one segment) and
 * a final `*name` that takes the rest of the path (possibly empty, slashes included). Matching
 * works on the still-encoded path, segment by segment, so an encoded slash (`%2F`) inside a
 * parameter never splits it; values are percent-decoded afterwards.
 */
import { PennError } from '../protocol/errors.js';

type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; name: string }
  | { kind: 'rest'; name: string };

export interface RoutePattern {
  readonly source: string;
  readonly segments: readonly Segment[];
}

/** Compiles "/api/mail/messages/:id" or "/api/files/*path". Throws on a malformed pattern. */
export function compilePattern(source: string): RoutePattern {
  if (!source.startsWith('/')) throw new Error(`route pattern must start with "/": ${source}`);
  const parts = splitPath(source);
  const segments: Segment[] = parts.map((part, i) => {
    if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad parameter name in ${source}`);
      return { kind: 'param', name };
    }
    if (part.startsWith('*')) {
      if (i !== parts.length - 1) throw new Error(`"*" must be the last segment in ${source}`);
      return { kind: 'rest', name: part.slice(1) || 'rest' };
    }
    return { kind: 'literal', text: part };
  });
  return { source, segments };
}

/** Joins a prefix and a pattern: ("/api/mail", "/") -> "/api/mail". */
export function joinPattern(prefix: string, pattern: string): string {
  const head = prefix.replace(/\/+$/, '');
  const tail = pattern === '/' ? '' : pattern;
  return head + tail || '/';
}

/**
 * Matches an encoded path ("/a/b%20c") against a pattern. Returns decoded parameters, or null
 * when the path does not match. A parameter that is not valid percent-encoding is a 400.
 */
export function matchPattern(pattern: RoutePattern, path: string): Record<string, string> | null {
  const parts = splitPath(path);
  const params: Record<string, string> = {};
  const { segments } = pattern;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.kind === 'rest') {
      params[seg.name] = parts.slice(i).map(decodeSegment).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.kind === 'literal') {
      if (part !== seg.text) return null;
    } else {
      if (part === '') return null;
      params[seg.name] = decodeSegment(part);
    }
  }
  return parts.length === segments.length ? params : null;
}

/** "/a/b/" -> ["a", "b"]; "/" -> []. A trailing slash is not a segment of its own. */
function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

function decodeSegment(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PennError('BAD_REQUEST', `path segment "${part}" is not valid percent-encoding`);
  }
}
