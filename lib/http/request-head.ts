/**
 * What a syntactically valid request head means: the target's form, the body's framing, the
 * connection's fate. Pure; throws ParseError for every head the server must refuse.
 */
import { RequestHeaders } from './headers.js';
import { badRequest, ParseError } from './parse-error.js';

/** A parsed request head, ready to become an HttpRequest. */
export interface RequestHead {
  method: string;
  /** The request-target exactly as sent. */
  target: string;
  /** Path of the target, still percent-encoded; "*" for `OPTIONS *`. */
  path: string;
  /** Query without "?", still encoded; "" when absent. */
  query: string;
  httpVersion: '1.0' | '1.1';
  headers: RequestHeaders;
  /** Content-Length, null for chunked, 0 for no body. */
  bodyLength: number | null;
  /** Whether the connection may carry another request after this one. */
  keepAlive: boolean;
  /** `Expect: 100-continue` on an HTTP/1.1 request (RFC 9110 §10.1.1). */
  expectContinue: boolean;
}

const CODE_0 = 0x30;
const CODE_9 = 0x39;

/** Builds a RequestHead from the request line and fields; throws ParseError. */
export function interpretHead(
  method: string, target: string, httpVersion: '1.0' | '1.1', fields: string[],
  bodyBytesMax: number,
): RequestHead {
  let hostCount = 0;
  let contentLength = -1;
  let transferCodings: string[] | null = null;
  let keepAlive = httpVersion === '1.1';
  let expectContinue = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    switch (name.length) {
      case 4:
        if (isName(name, 'host')) {
          hostCount++;
          checkHost(value);
        }
        break;
      case 6:
        if (isName(name, 'expect')) expectContinue = readExpect(value, httpVersion);
        break;
      case 10:
        if (isName(name, 'connection')) keepAlive = readConnection(value, keepAlive);
        break;
      case 14:
        if (isName(name, 'content-length')) {
          contentLength = readContentLength(value, contentLength);
        }
        break;
      case 17:
        if (isName(name, 'transfer-encoding')) {
          transferCodings ??= [];
          for (const coding of value.split(',')) {
            const trimmed = trimOws(coding).toLowerCase();
            if (trimmed !== '') transferCodings.push(trimmed);
          }
        }
        break;
      default:
        break;
    }
  }
  // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without a Host field, or
  // with more than one.
  if (hostCount > 1) throw badRequest('More than one Host header field');
  if (hostCount === 0 && httpVersion === '1.1') throw badRequest('Missing Host header field');

  let bodyLength = 0;
  if (transferCodings !== null) {
    checkTransferCodings(transferCodings, httpVersion, contentLength);
    bodyLength = -1;
  } else if (contentLength >= 0) {
    if (contentLength > bodyBytesMax) {
      throw new ParseError('TOO_LARGE', `Request body larger than ${bodyBytesMax} bytes`);
    }
    bodyLength = contentLength;
  }
  const { path, query } = splitTarget(method, target);
  return {
    method, target, path, query, httpVersion, headers: new RequestHeaders(fields),
    bodyLength: bodyLength < 0 ? null : bodyLength, keepAlive, expectContinue,
  };
}

/**
 * RFC 9112 §6.1 and §6.3: the only framing coding we accept is a single final `chunked`; with
 * Content-Length too, or on HTTP/1.0, the framing is ambiguous and the request is refused.
 */
function checkTransferCodings(codings: string[], httpVersion: string, contentLength: number): void {
  if (contentLength >= 0) throw badRequest('Both Transfer-Encoding and Content-Length');
  if (httpVersion === '1.0') throw badRequest('Transfer-Encoding in an HTTP/1.0 request');
  if (codings.length === 0) throw badRequest('Empty Transfer-Encoding');
  if (codings[codings.length - 1] !== 'chunked') {
    throw badRequest('Transfer-Encoding does not end with chunked');
  }
  // RFC 9112 §7: chunked is never applied twice.
  if (codings.indexOf('chunked') < codings.length - 1) {
    throw badRequest('chunked applied more than once');
  }
  // RFC 9112 §6.1: a transfer coding the server does not understand gets 501.
  if (codings.length > 1) {
    throw new ParseError('NOT_IMPLEMENTED', `Unsupported transfer coding "${codings[0]!}"`);
  }
}

/**
 * RFC 9110 §8.6: Content-Length = 1*DIGIT. The RFC lets a recipient accept repeated identical
 * values (lines or list members), but llhttp, and so node:http, refuses any second value: a
 * proxy that keeps the first of two lines and a server that keeps the last would disagree on the
 * framing, so we refuse every repeat too (RFC 9112 §6.3 item 5: invalid framing, 400). Signs,
 * inner spaces, leading zeros and values past 2^53 are refused as well.
 */
function readContentLength(value: string, previous: number): number {
  if (previous >= 0) throw badRequest('More than one Content-Length header field');
  if (value.indexOf(',') >= 0) throw badRequest('Content-Length with more than one value');
  return parseDecimal(value);
}

function parseDecimal(text: string): number {
  if (text.length === 0) throw badRequest('Empty Content-Length');
  if (text.length > 1 && text.charCodeAt(0) === CODE_0) {
    throw badRequest('Content-Length with leading zeros');
  }
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < CODE_0 || c > CODE_9) throw badRequest('Content-Length is not a decimal number');
    n = n * 10 + (c - CODE_0);
    if (n > Number.MAX_SAFE_INTEGER) throw badRequest('Content-Length overflows');
  }
  return n;
}

/** RFC 9112 §9.3 and §9.6: `close` ends the connection; `keep-alive` keeps an HTTP/1.0 one. */
function readConnection(value: string, keepAlive: boolean): boolean {
  const lower = value.toLowerCase();
  if (lower === 'keep-alive') return true;
  if (lower === 'close') return false;
  let result = keepAlive;
  for (const option of lower.split(',')) {
    const token = trimOws(option);
    if (token === 'close') return false;
    if (token === 'keep-alive') result = true;
  }
  return result;
}

/**
 * RFC 9110 §10.1.1: only 100-continue is defined; an HTTP/1.0 client's expectation is ignored;
 * any other expectation may be refused with 417.
 */
function readExpect(value: string, httpVersion: string): boolean {
  if (httpVersion === '1.0') return false;
  if (value.toLowerCase() === '100-continue') return true;
  throw new ParseError('BAD_REQUEST', `Unsupported expectation "${value}"`, 417);
}

/** Host = uri-host [ ":" port ] (RFC 9110 §7.2): no spaces, slashes or userinfo. */
function checkHost(value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x2f || c === 0x40 || c === 0x3f || c === 0x23
      || c === 0x5c) {
      throw badRequest('Invalid Host header field');
    }
  }
}

/** The path and query of a request-target in any of its forms (RFC 9112 §3.2). */
function splitTarget(method: string, target: string): { path: string; query: string } {
  const first = target.charCodeAt(0);
  if (first === 0x2f) return splitPathQuery(target, 0); // origin-form: "/"
  if (target === '*') {
    // asterisk-form: only for a server-wide OPTIONS (RFC 9112 §3.2.4).
    if (method !== 'OPTIONS') throw badRequest('"*" target is only valid with OPTIONS');
    return { path: '*', query: '' };
  }
  if (method === 'CONNECT') throw new ParseError('NOT_IMPLEMENTED', 'CONNECT is not supported');
  // absolute-form (RFC 9112 §3.2.2): a server MUST accept it; the path starts after authority.
  const schemeEnd = target.indexOf('://');
  const scheme = schemeEnd > 0 ? target.slice(0, schemeEnd).toLowerCase() : '';
  if (scheme !== 'http' && scheme !== 'https') throw badRequest('Invalid request target');
  let pathStart = schemeEnd + 3;
  while (pathStart < target.length) {
    const c = target.charCodeAt(pathStart);
    if (c === 0x2f || c === 0x3f) break;
    pathStart++;
  }
  if (pathStart === schemeEnd + 3) throw badRequest('Absolute target without authority');
  if (pathStart === target.length) return { path: '/', query: '' };
  const split = splitPathQuery(target, pathStart);
  if (split.path === '') split.path = '/';
  return split;
}

function splitPathQuery(target: string, start: number): { path: string; query: string } {
  // A fragment is never part of a request-target (RFC 9112 §3.2).
  if (target.indexOf('#', start) >= 0) throw badRequest('Fragment in request target');
  const mark = target.indexOf('?', start);
  if (mark < 0) return { path: start === 0 ? target : target.slice(start), query: '' };
  return { path: target.slice(start, mark), query: target.slice(mark + 1) };
}

/** True when `name` (same length as `lower`) equals it ignoring ASCII case; no allocation. */
function isName(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Strips optional whitespace (SP, HTAB) at both ends (RFC 9110 §5.6.3). */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
