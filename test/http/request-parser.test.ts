import { expect } from 'chai';
import { RequestParser } from '../../lib/http/request-parser.js';
import {
  body, END, error, expectEvents, head, parseChunks, TEST_LIMITS, type ParserEvent,
} from './parser-harness.js';

interface Case {
  name: string;
  input: string;
  events: ParserEvent[];
}

const VALID: Case[] = [
  {
    name: 'a GET with Host',
    input: 'GET /index.html?x=1&y=2 HTTP/1.1\r\nHost: a\r\n\r\n',
    events: [head({ target: '/index.html?x=1&y=2', path: '/index.html', query: 'x=1&y=2' }), END],
  },
  {
    name: 'two pipelined requests',
    input: 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n',
    events: [head({ target: '/1' }), END, head({ method: 'HEAD', target: '/2' }), END],
  },
  {
    name: 'a Content-Length body followed by a second request',
    input: 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    events: [
      head({ method: 'POST', target: '/p', headers: [['Host', 'a'], ['Content-Length', '5']], bodyLength: 5 }),
      body('hello'), END, head({}), END,
    ],
  },
  {
    name: 'a chunked body with extensions and trailers',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
      + '5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0;last=1\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n'
      + 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n',
    events: [
      head({ method: 'POST', headers: [['Host', 'a'], ['Transfer-Encoding', 'chunked']], bodyLength: null }),
      body('hello, world!!!'), END, head({ target: '/next' }), END,
    ],
  },
  {
    name: 'chunk sizes in upper and lower case hex with leading zeros',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n00a\r\n0123456789\r\n0B\r\nabcdefghijk\r\n0\r\n\r\n',
    events: [
      head({ method: 'POST', headers: [['Host', 'a'], ['Transfer-Encoding', 'Chunked']], bodyLength: null }),
      body('0123456789abcdefghijk'), END,
    ],
  },
  {
    name: 'absolute-form target',
    input: 'GET http://example.com:8080/a/b?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n',
    events: [head({
      target: 'http://example.com:8080/a/b?q=1', path: '/a/b', query: 'q=1',
      headers: [['Host', 'example.com:8080']],
    }), END],
  },
  {
    name: 'absolute-form target without a path',
    input: 'GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n',
    events: [head({ target: 'https://example.com', path: '/', headers: [['Host', 'example.com']] }), END],
  },
  {
    name: 'OPTIONS *',
    input: 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
    events: [head({ method: 'OPTIONS', target: '*', path: '*' }), END],
  },
  {
    name: 'HTTP/1.0 without Host closes by default',
    input: 'GET / HTTP/1.0\r\n\r\n',
    events: [head({ version: '1.0', headers: [], keepAlive: false }), END],
  },
  {
    name: 'HTTP/1.0 with Connection: keep-alive',
    input: 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n',
    events: [head({ version: '1.0', headers: [['Connection', 'Keep-Alive']], keepAlive: true }), END],
  },
  {
    name: 'HTTP/1.1 with Connection: close among other options',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, Close\r\n\r\n',
    events: [head({ headers: [['Host', 'a'], ['Connection', 'upgrade, Close']], keepAlive: false }), END],
  },
  {
    name: 'repeated fields kept in order, names as sent, values trimmed',
    input: 'GET / HTTP/1.1\r\nhost: a\r\nX-A:one\r\nx-a: \t two \t\r\nX-Empty:\r\nX-Spaces:   \r\n\r\n',
    events: [head({
      headers: [['host', 'a'], ['X-A', 'one'], ['x-a', 'two'], ['X-Empty', ''], ['X-Spaces', '']],
    }), END],
  },
  {
    name: 'obs-text in a field value is kept as latin1',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xe9\r\n\r\n',
    events: [head({ headers: [['Host', 'a'], ['X-Name', 'caf\xe9']] }), END],
  },
  {
    name: 'empty lines before the request line are skipped (RFC 9112 §2.2)',
    input: '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    events: [head({}), END],
  },
  {
    // RFC 9110 §8.6 lets identical repeats through; llhttp refuses them, and so do we.
    name: 'identical Content-Length lines are refused, as llhttp does',
    input: 'PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    events: [error(400, 'BAD_REQUEST')],
  },
  {
    name: 'a Content-Length list of identical values is refused, as llhttp does',
    input: 'PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc',
    events: [error(400, 'BAD_REQUEST')],
  },
  {
    name: 'Content-Length: 0 is a request without body',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
    events: [head({ method: 'POST', headers: [['Host', 'a'], ['Content-Length', '0']] }), END],
  },
  {
    name: 'Expect: 100-continue',
    input: 'PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx',
    events: [head({
      method: 'PUT', headers: [['Host', 'a'], ['Expect', '100-Continue'], ['Content-Length', '1']],
      bodyLength: 1, expectContinue: true,
    }), body('x'), END],
  },
  {
    name: 'Expect on HTTP/1.0 is ignored (RFC 9110 §10.1.1)',
    input: 'GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n',
    events: [head({ version: '1.0', headers: [['Expect', '100-continue']], keepAlive: false }), END],
  },
  {
    name: 'an empty Host is allowed (RFC 9112 §3.2)',
    input: 'GET / HTTP/1.1\r\nHost:\r\n\r\n',
    events: [head({ headers: [['Host', '']] }), END],
  },
];

const INVALID: Case[] = [
  { name: 'missing Host on HTTP/1.1', input: 'GET / HTTP/1.1\r\nX: y\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'two Host fields', input: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'Host with a path', input: 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'HTTP/2.0', input: 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', events: [error(505, 'NOT_IMPLEMENTED')] },
  { name: 'HTTP/1.2', input: 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', events: [error(505, 'NOT_IMPLEMENTED')] },
  { name: 'lower-case version', input: 'GET / http/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'version too long', input: 'GET / HTTP/1.11\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'no version (HTTP/0.9)', input: 'GET /\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'two spaces after the method', input: 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'empty method', input: ' / HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'method with a control byte', input: 'G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'NUL in the target', input: 'GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'non-ASCII in the target', input: 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'fragment in the target', input: 'GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: '"*" with GET', input: 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'target that is no form at all', input: 'GET foo HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'CONNECT (authority-form)', input: 'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n', events: [error(501, 'NOT_IMPLEMENTED')] },
  { name: 'NUL in a field value', input: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'DEL in a field value', input: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'control byte in a field name', input: 'GET / HTTP/1.1\r\nHost: a\r\nX\x01Y: b\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'empty field name', input: 'GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'field line without a colon', input: 'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n', events: [error(400, 'BAD_REQUEST')] },
  { name: 'unsupported expectation', input: 'GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n', events: [error(417, 'BAD_REQUEST')] },
];

describe('http request parser', () => {
  describe('valid requests give the same events for every split', () => {
    for (const c of VALID) {
      it(c.name, () => expectEvents(c.input, c.events));
    }
  });

  describe('invalid requests give one error for every split', () => {
    for (const c of INVALID) {
      it(c.name, () => expectEvents(c.input, c.events));
    }
  });

  describe('limits', () => {
    const small = { ...TEST_LIMITS, requestLineBytesMax: 32, headBytesMax: 64, headersCountMax: 3, bodyBytesMax: 10 };

    it('a request line of exactly the limit is accepted', () => {
      const target = '/' + 'a'.repeat(32 - 'GET  HTTP/1.1'.length - 1);
      expectEvents(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`, [head({ target }), END], small);
    });

    it('a request line one byte past the limit is 414', () => {
      const target = '/' + 'a'.repeat(32 - 'GET  HTTP/1.1'.length);
      expectEvents(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`, [error(414, 'URI_TOO_LONG')], small);
    });

    it('an endless request line is 414 without waiting for its end', () => {
      expectEvents(`GET /${'a'.repeat(100)}`, [error(414, 'URI_TOO_LONG')], small);
    });

    it('a head past headBytesMax is 431', () => {
      expectEvents(`GET / HTTP/1.1\r\nHost: a\r\nX-Long: ${'b'.repeat(60)}\r\n\r\n`, [error(431, 'HEADERS_TOO_LARGE')], small);
    });

    it('an endless field value is 431 without waiting for its end', () => {
      expectEvents(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(100)}`, [error(431, 'HEADERS_TOO_LARGE')], small);
    });

    it('more fields than headersCountMax is 431', () => {
      expectEvents('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', [error(431, 'HEADERS_TOO_LARGE')], small);
    });

    it('exactly headersCountMax fields are accepted', () => {
      const fields: Array<[string, string]> = [['Host', 'a'], ['A', '1'], ['B', '2']];
      expectEvents('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n', [head({ headers: fields }), END], small);
    });

    it('endless empty lines before a request are 431', () => {
      expectEvents('\r\n'.repeat(40), [error(431, 'HEADERS_TOO_LARGE')], small);
    });

    it('a Content-Length past bodyBytesMax is 413 before any body byte', () => {
      expectEvents('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n0123456789x', [error(413, 'TOO_LARGE')], small);
    });

    it('a chunked body past bodyBytesMax is 413 at the chunk that passes it', () => {
      expectEvents('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789x\r\n0\r\n\r\n', [
        head({ method: 'POST', headers: [['Host', 'a'], ['Transfer-Encoding', 'chunked']], bodyLength: null }),
        body('012345'), error(413, 'TOO_LARGE'),
      ], small);
    });

    it('a trailer section past headBytesMax is 431', () => {
      expectEvents(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ${'t'.repeat(80)}\r\n\r\n`, [
        head({ method: 'POST', headers: [['Host', 'a'], ['Transfer-Encoding', 'chunked']], bodyLength: null }),
        error(431, 'HEADERS_TOO_LARGE'),
      ], small);
    });
  });

  describe('flow control', () => {
    it('pause() in onHead stops execute() right after the head; the rest resumes', () => {
      const input = Buffer.from('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
      const targets: string[] = [];
      const parser: RequestParser = new RequestParser(TEST_LIMITS, {
        onHead: (h) => {
          targets.push(h.target);
          parser.pause();
        },
        onBody: () => undefined,
        onMessageEnd: () => undefined,
        onError: (err) => expect.fail(err.message),
      });
      const first = parser.execute(input, 0);
      expect(first).to.equal(input.indexOf('GET /2'));
      expect(targets).to.deep.equal(['/1']);
      parser.resume();
      expect(parser.execute(input, first)).to.equal(input.length);
      expect(targets).to.deep.equal(['/1', '/2']);
    });

    it('stop() drops every later byte', () => {
      const input = Buffer.from('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
      const targets: string[] = [];
      const parser: RequestParser = new RequestParser(TEST_LIMITS, {
        onHead: (h) => targets.push(h.target),
        onBody: () => undefined,
        onMessageEnd: () => parser.stop(),
        onError: (err) => expect.fail(err.message),
      });
      expect(parser.execute(input, 0)).to.equal(input.length);
      expect(targets).to.deep.equal(['/1']);
    });

    it('reports a head in progress (for the head timeout)', () => {
      const parser = new RequestParser(TEST_LIMITS, {
        onHead: () => undefined, onBody: () => undefined, onMessageEnd: () => undefined, onError: () => undefined,
      });
      expect(parser.isMidHead).to.equal(false);
      parser.execute(Buffer.from('G'));
      expect(parser.isMidHead).to.equal(true);
      parser.execute(Buffer.from('ET / HTTP/1.1\r\nHost: a\r\n\r\n'));
      expect(parser.isMidHead).to.equal(false);
      parser.execute(Buffer.from('\r'));
      expect(parser.isMidHead).to.equal(true);
    });

    it('a head split over many buffers is rebuilt from its copy', () => {
      const long = 'x'.repeat(5000);
      const input = `GET /${long} HTTP/1.1\r\nHost: a\r\nX-Long: ${long}\r\n\r\n`;
      const parts = [];
      for (let at = 0; at < input.length; at += 777) parts.push(Buffer.from(input.slice(at, at + 777)));
      expect(parseChunks(parts)).to.deep.equal([
        head({ target: `/${long}`, headers: [['Host', 'a'], ['X-Long', long]] }), END,
      ]);
    });
  });
});
