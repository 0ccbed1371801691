/**
 * Request smuggling: every request whose framing two parsers could read differently is refused
 * with one error, whatever the split, and no byte after it (a hidden second request here, always
 * GET /smuggled) ever comes out as a request.
 */
import { body, error, expectEvents, head, type ParserEvent } from './parser-harness.js';

const HIDDEN = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

interface Case {
  name: string;
  input: string;
  events: ParserEvent[];
}

const CHUNKED_HEAD = head({
  method: 'POST', headers: [['Host', 'a'], ['Transfer-Encoding', 'chunked']], bodyLength: null,
});

function post(fields: string, rest: string): string {
  return `POST / HTTP/1.1\r\nHost: a\r\n${fields}\r\n${rest}`;
}

const REFUSED_AT_HEAD: Array<[string, string, number?]> = [
  ['Transfer-Encoding with Content-Length', 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n'],
  ['Content-Length with Transfer-Encoding', 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n'],
  ['differing Content-Length lines', 'Content-Length: 3\r\nContent-Length: 4\r\n'],
  ['differing Content-Length list members', 'Content-Length: 3, 4\r\n'],
  ['a signed Content-Length (+)', 'Content-Length: +3\r\n'],
  ['a negative Content-Length', 'Content-Length: -1\r\n'],
  ['a Content-Length padded with zeros', 'Content-Length: 003\r\n'],
  ['a Content-Length with an inner space', 'Content-Length: 1 2\r\n'],
  ['a hexadecimal Content-Length', 'Content-Length: 0x3\r\n'],
  ['an empty Content-Length', 'Content-Length:\r\n'],
  ['an empty Content-Length list member', 'Content-Length: 3,,3\r\n'],
  ['an overflowing Content-Length', 'Content-Length: 99999999999999999999999\r\n'],
  ['Content-Length just past 2^53', 'Content-Length: 9007199254740992\r\n'],
  ['a transfer coding other than chunked', 'Transfer-Encoding: gzip\r\n'],
  ['chunked not the final coding', 'Transfer-Encoding: chunked, gzip\r\n'],
  ['chunked applied twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'],
  ['a coding before chunked (501)', 'Transfer-Encoding: gzip, chunked\r\n', 501],
  ['chunked with parameters', 'Transfer-Encoding: chunked;q=1\r\n'],
  ['an empty Transfer-Encoding', 'Transfer-Encoding: \r\n'],
  ['identity as a transfer coding', 'Transfer-Encoding: identity\r\n'],
  ['a misspelt chunked', 'Transfer-Encoding: chunk\r\n'],
  ['obs-fold continuing Transfer-Encoding', 'Transfer-Encoding: gzip\r\n chunked\r\n'],
  ['obs-fold on any field', 'X-Folded: a\r\n\tb\r\n'],
  ['whitespace between field name and colon', 'Transfer-Encoding : chunked\r\n'],
  ['whitespace before the colon of Content-Length', 'Content-Length : 3\r\n'],
  ['a bare CR inside a field value', 'X-A: a\rContent-Length: 3\r\n'],
  ['a bare CR ending a field line', 'X-A: a\r\r\n'],
  ['a bare LF ending a field line', 'X-A: a\nContent-Length: 3\r\n'],
  ['a NUL in a field value', 'X-A: a\x00\r\n'],
  ['a vertical tab in a field value', 'X-A: a\x0bb\r\n'],
  ['a form feed in a field name', 'X\x0cA: a\r\n'],
];

const CASES: Case[] = [
  ...REFUSED_AT_HEAD.map(([name, fields, status]): Case => ({
    name, input: post(fields, `3\r\nabc\r\n0\r\n\r\n${HIDDEN}`),
    events: [status === 501 ? error(501, 'NOT_IMPLEMENTED') : error(400, 'BAD_REQUEST')],
  })),
  {
    name: 'Transfer-Encoding on an HTTP/1.0 request',
    input: `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${HIDDEN}`,
    events: [error(400, 'BAD_REQUEST')],
  },
  {
    name: 'a bare CR in the request line',
    input: `GET / HTTP/1.1\rHost: a\r\n\r\n${HIDDEN}`,
    events: [error(400, 'BAD_REQUEST')],
  },
  {
    name: 'bare LF line endings (strict: refused)',
    input: `GET / HTTP/1.1\nHost: a\n\n${HIDDEN}`,
    events: [error(400, 'BAD_REQUEST')],
  },
  {
    name: 'a bare LF ending the head',
    input: `GET / HTTP/1.1\r\nHost: a\r\n\n${HIDDEN}`,
    events: [error(400, 'BAD_REQUEST')],
  },
  {
    name: 'whitespace before the first field line',
    input: `GET / HTTP/1.1\r\n Host: a\r\n\r\n${HIDDEN}`,
    events: [error(400, 'BAD_REQUEST')],
  },
  {
    name: 'a NUL in the request line',
    input: `GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n${HIDDEN}`,
    events: [error(400, 'BAD_REQUEST')],
  },
];

const CHUNK_CASES: Array<[string, string, string?]> = [
  ['a chunk size that is not hex', 'g\r\n'],
  ['a signed chunk size', '-3\r\nabc\r\n'],
  ['a chunk size with 0x', '0x3\r\nabc\r\n'],
  ['a chunk size padded with a space before', ' 3\r\nabc\r\n'],
  ['a chunk size padded with a space after', '3 \r\nabc\r\n'],
  ['an empty chunk size', '\r\nabc\r\n'],
  ['a chunk size with more than 16 digits', '00000000000000003\r\nabc\r\n'],
  ['a chunk size past 2^53', 'FFFFFFFFFFFFFFFF\r\nabc\r\n'],
  ['a chunk size ended by a bare LF', '3\nabc\r\n'],
  ['a chunk size ended by a bare CR', '3\rabc\r\n'],
  ['chunk data longer than its size', '3\r\nabcd\r\n', 'abc'],
  ['chunk data not followed by CRLF', '3\r\nabc\n0\r\n\r\n', 'abc'],
  ['a control byte in a chunk extension', '3;a=\x01\r\nabc\r\n'],
  ['a bare LF in the trailer section', '0\r\nX: 1\n\r\n'],
  ['obs-fold in the trailer section', '0\r\nX: 1\r\n 2\r\n\r\n'],
  ['whitespace before a colon in a trailer', '0\r\nX : 1\r\n\r\n'],
  ['a last chunk without the final CRLF', '0\r\nGET'],
];

for (const [name, chunks, data] of CHUNK_CASES) {
  const events = [CHUNKED_HEAD];
  if (data !== undefined) events.push(body(data));
  events.push(error(400, 'BAD_REQUEST'));
  CASES.push({
    name,
    input: post('Transfer-Encoding: chunked\r\n', `${chunks}0\r\n\r\n${HIDDEN}`),
    events,
  });
}

describe('http request smuggling cases are 400 and nothing after them is a request', () => {
  for (const c of CASES) {
    it(c.name, () => expectEvents(c.input, c.events));
  }
});
