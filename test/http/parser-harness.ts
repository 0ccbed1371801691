/**
 * Drives the request parser with a byte string split in every way and records its events, so a
 * table test can say "these bytes give these events" once and check it for every split.
 */
import { expect } from 'chai';
import { DEFAULT_LIMITS } from '../../lib/http/limits.js';
import type { ParseError } from '../../lib/http/parse-error.js';
import { RequestParser, type ParserLimits } from '../../lib/http/request-parser.js';
import type { RequestHead } from '../../lib/http/request-head.js';

export type ParserEvent =
  | {
    kind: 'head'; method: string; target: string; path: string; query: string;
    version: string; headers: Array<[string, string]>; bodyLength: number | null;
    keepAlive: boolean; expectContinue: boolean;
  }
  | { kind: 'body'; text: string }
  | { kind: 'end' }
  | { kind: 'error'; status: number; code: string };

export const TEST_LIMITS: ParserLimits = {
  requestLineBytesMax: DEFAULT_LIMITS.requestLineBytesMax,
  headBytesMax: DEFAULT_LIMITS.headBytesMax,
  headersCountMax: DEFAULT_LIMITS.headersCountMax,
  bodyBytesMax: DEFAULT_LIMITS.bodyBytesMax,
};

/** Feeds the chunks in order and returns the events, adjacent body slices joined. */
export function parseChunks(chunks: Buffer[], limits: ParserLimits = TEST_LIMITS): ParserEvent[] {
  const events: ParserEvent[] = [];
  const parser = new RequestParser(limits, {
    onHead: (head: RequestHead) => events.push({
      kind: 'head', method: head.method, target: head.target, path: head.path,
      query: head.query, version: head.httpVersion, headers: head.headers.entries(),
      bodyLength: head.bodyLength, keepAlive: head.keepAlive, expectContinue: head.expectContinue,
    }),
    onBody: (chunk: Buffer) => {
      const last = events[events.length - 1];
      const text = chunk.toString('latin1');
      if (last?.kind === 'body') last.text += text;
      else events.push({ kind: 'body', text });
    },
    onMessageEnd: () => events.push({ kind: 'end' }),
    onError: (err: ParseError) => events.push({ kind: 'error', status: err.status, code: err.code }),
  });
  for (const chunk of chunks) {
    // Copy each chunk into its own buffer so no slice can peek at bytes not yet "received".
    const own = Buffer.from(chunk);
    let at = 0;
    while (at < own.length) {
      at = parser.execute(own, at);
      expect(parser.isPaused).to.equal(false);
    }
  }
  return events;
}

/** Every way the harness splits the input: whole, in two at each byte, one byte at a time. */
export function splits(input: Buffer): Array<{ name: string; chunks: Buffer[] }> {
  const out = [{ name: 'whole', chunks: [input] }];
  for (let at = 1; at < input.length; at++) {
    out.push({ name: `split at ${at}`, chunks: [input.subarray(0, at), input.subarray(at)] });
  }
  const bytes: Buffer[] = [];
  for (let at = 0; at < input.length; at++) bytes.push(input.subarray(at, at + 1));
  out.push({ name: 'byte by byte', chunks: bytes });
  return out;
}

/** Asserts that every split of `input` gives exactly `expected`. */
export function expectEvents(
  input: string | Buffer, expected: ParserEvent[], limits: ParserLimits = TEST_LIMITS,
): void {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  for (const { name, chunks } of splits(bytes)) {
    const events = parseChunks(chunks, limits);
    expect(events, name).to.deep.equal(expected);
  }
}

/** A head event with defaults for the fields a test does not care to spell out. */
export function head(fields: Partial<Extract<ParserEvent, { kind: 'head' }>>): ParserEvent {
  const target = fields.target ?? '/';
  return {
    kind: 'head', method: 'GET', target, path: target, query: '', version: '1.1',
    headers: [['Host', 'a']], bodyLength: 0, keepAlive: true, expectContinue: false, ...fields,
  };
}

export const END: ParserEvent = { kind: 'end' };

export function body(text: string): ParserEvent {
  return { kind: 'body', text };
}

export function error(status: number, code: string): ParserEvent {
  return { kind: 'error', status, code };
}
