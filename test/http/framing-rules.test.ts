/**
 * One transcript per framing rule of docs/http.md: the bytes a client sends, the reply it must
 * get and whether the connection then closes. Each is parsed split at every byte, then sent to a
 * real server, whole and one byte per write.
 */
import { expect } from 'chai';
import type { HttpRequest, HttpResponse } from '../../lib/http/types.js';
import { END, error, expectEvents, head, type ParserEvent } from './parser-harness.js';
import { closeAll, RawClient, startServer } from './wire-client.js';

interface Rule {
  rule: string;
  name: string;
  input: string;
  /** Statuses of the replies, in order. */
  statuses: number[];
  /** Whether the server closes the connection after the last reply. */
  closes: boolean;
  /** The parser's events, when the rule is about the parser. */
  events?: ParserEvent[];
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST', 413: 'TOO_LARGE', 501: 'NOT_IMPLEMENTED', 505: 'NOT_IMPLEMENTED',
};

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
const P = 'POST / HTTP/1.1\r\nHost: a\r\n';

/** A request refused at its head: one reply, then close; the parser's only event is the error. */
function refused(rule: string, name: string, input: string, status = 400): Rule {
  return { rule, name, input, statuses: [status], closes: true, events: [error(status, CODE_BY_STATUS[status]!)] };
}

const RULES: Rule[] = [
  refused('L1', 'a bare LF ending the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n'),
  refused('L1', 'a bare LF ending a field line', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n'),
  refused('L1', 'a bare LF ending the head', 'GET / HTTP/1.1\r\nHost: a\r\n\n'),
  refused('L2', 'a bare CR in the request line', 'GET / HTTP/1.1\rHost: a\r\n\r\n'),
  refused('L2', 'a bare CR in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n'),
  {
    rule: 'L3', name: 'CRLF before the request line is ignored', input: `\r\n${GET}`,
    statuses: [200], closes: false, events: [head({}), END],
  },
  {
    rule: 'L3', name: 'CRLF between pipelined requests is ignored', input: `${GET}\r\n\r\n${GET}`,
    statuses: [200, 200], closes: false, events: [head({}), END, head({}), END],
  },
  refused('L4', 'a bare LF before the request line', `\n${GET}`),
  refused('L4', 'a bare CR before the request line', `\r${GET}`),
  refused('L5', 'whitespace before the first field line', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n'),
  refused('R1', 'two spaces after the method', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'),
  refused('R1', 'a tab between method and target', 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n'),
  refused('R1', 'a space after the version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n'),
  refused('R1', 'a space before the method', ' GET / HTTP/1.1\r\nHost: a\r\n\r\n'),
  refused('R2', 'a method with a slash', 'G/T / HTTP/1.1\r\nHost: a\r\n\r\n'),
  refused('R3', 'a NUL in the target', 'GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n'),
  refused('R3', 'a fragment in the target', 'GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n'),
  refused('R3', '"*" with GET', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n'),
  refused('R4', 'CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n', 501),
  refused('V1', 'no version', 'GET /\r\nHost: a\r\n\r\n'),
  refused('V1', 'a lower-case protocol name', 'GET / http/1.1\r\nHost: a\r\n\r\n'),
  refused('V1', 'an unknown protocol with a known method', 'GET / XTTP/1.1\r\nHost: a\r\n\r\n'),
  refused('V1', 'two digits of minor version', 'GET / HTTP/1.10\r\nHost: a\r\n\r\n'),
  refused('V1', 'a letter for a version digit', 'GET / HTTP/1.x\r\nHost: a\r\n\r\n'),
  refused('V2', 'HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505),
  refused('V2', 'HTTP/0.9', 'GET / HTTP/0.9\r\nHost: a\r\n\r\n', 505),
  refused('H1', 'HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n'),
  refused('H1', 'two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'),
  refused('F1', 'a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'),
  refused('F1', 'a tab before the colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n'),
  refused('F2', 'obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n'),
  refused('F3', 'a field line without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nXb\r\n\r\n'),
  refused('F3', 'an empty field name', 'GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n'),
  refused('F3', 'a NUL in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n'),
  refused('F3', 'a DEL in a field name', 'GET / HTTP/1.1\r\nHost: a\r\nX\x7f: b\r\n\r\n'),
  {
    rule: 'F4', name: 'whitespace around a Content-Length value', input: `${P}Content-Length: \t2\t \r\n\r\nab`,
    statuses: [200], closes: false,
  },
  refused('C1', 'a signed Content-Length', `${P}Content-Length: +1\r\n\r\nx`),
  refused('C1', 'a Content-Length with an inner space', `${P}Content-Length: 1 1\r\n\r\n`),
  refused('C1', 'an overflowing Content-Length', `${P}Content-Length: 99999999999999999999999\r\n\r\n`),
  refused('C1', 'a Content-Length with leading zeros', `${P}Content-Length: 01\r\n\r\nx`),
  refused('C2', 'two identical Content-Length lines', `${P}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx`),
  refused('C2', 'two differing Content-Length lines', `${P}Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx`),
  refused('C2', 'a Content-Length list of identical values', `${P}Content-Length: 1, 1\r\n\r\nx`),
  refused('T1', 'Transfer-Encoding with Content-Length', `${P}Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n`),
  refused('T2', 'Transfer-Encoding on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
  refused('T3', 'a final coding other than chunked', `${P}Transfer-Encoding: chunked, gzip\r\n\r\n`),
  refused('T3', 'chunked twice', `${P}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`),
  refused('T4', 'gzip before chunked', `${P}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501),
];

/** A chunked request whose body breaks: the handler reads the body, so the reply is 400. */
function brokenChunks(rule: string, name: string, chunks: string): Rule {
  return { rule, name, input: `${P}Transfer-Encoding: chunked\r\n\r\n${chunks}`, statuses: [400], closes: true };
}

RULES.push(
  brokenChunks('K1', 'a chunk size that is not hex', 'zz\r\n\r\n'),
  brokenChunks('K1', 'a space after a chunk size', '1 \r\nx\r\n0\r\n\r\n'),
  brokenChunks('K1', 'a chunk size ended by a bare LF', '1\nx\r\n0\r\n\r\n'),
  brokenChunks('K1', 'chunk data without its CRLF', '1\r\nxy0\r\n\r\n'),
  brokenChunks('K1', 'a chunk size of 17 digits', `${'0'.repeat(16)}1\r\nx\r\n0\r\n\r\n`),
  brokenChunks('K2', 'a control byte in a chunk extension', '0;a=\x01\r\n\r\n'),
  brokenChunks('K2', 'a bare LF after a chunk extension', '0;a\n\r\n'),
  brokenChunks('K2', 'a chunk extension without a name', '0;\r\n\r\n'),
  brokenChunks('K2', 'a chunk extension without a value after "="', '0;a=\r\n\r\n'),
  brokenChunks('K2', 'a space inside a chunk extension value', '0;a=b c\r\n\r\n'),
  brokenChunks('K2', 'an unterminated quoted chunk extension', '0;a="b\r\n\r\n'),
  brokenChunks('K2', 'whitespace ending a chunk extension', '0;a \r\n\r\n'),
  brokenChunks('K2', 'whitespace between a chunk size and ";"', '0 ;a\r\n\r\n'),
  brokenChunks('K3', 'Content-Length in a trailer', '0\r\nContent-Length: 5\r\n\r\n'),
  brokenChunks('K3', 'Transfer-Encoding in a trailer', '0\r\ntransfer-encoding: chunked\r\n\r\n'),
  {
    rule: 'K2', name: 'chunk extensions with BWS, tokens and quoted strings',
    input: `${P}Transfer-Encoding: chunked\r\n\r\n1; a = b ;c="d;\\"e"\r\nx\r\n0;f\r\n\r\n`,
    statuses: [200], closes: false,
  },
  {
    rule: 'K3', name: 'a trailer field that is not about framing',
    input: `${P}Transfer-Encoding: chunked\r\n\r\n0\r\nX-Checksum: 1\r\n\r\n`,
    statuses: [200], closes: false,
  },
  brokenChunks('K3', 'obs-fold in a trailer', '0\r\nX: a\r\n b\r\n\r\n'),
  brokenChunks('K3', 'a bare LF in a trailer', '0\r\nX: a\n\r\n'),
);

/** Reads the body before answering, so a broken body is what the client sees. */
async function readThenAnswer(req: HttpRequest, res: HttpResponse): Promise<void> {
  for await (const chunk of req.body) void chunk;
  res.end('ok');
}

async function exchange(port: number, input: string, byteByByte: boolean, rule: Rule): Promise<void> {
  const client = await RawClient.connect(port);
  const bytes = Buffer.from(input, 'latin1');
  if (byteByByte) {
    for (let at = 0; at < bytes.length && !client.closed; at++) {
      client.write(bytes.subarray(at, at + 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
  } else {
    client.write(bytes);
  }
  const responses = await client.responses(rule.statuses.length);
  expect(responses.map((r) => r.status)).to.deep.equal(rule.statuses);
  if (rule.closes) {
    expect(responses[responses.length - 1]!.headers.connection).to.equal('close');
    await client.waitClosed();
  } else {
    expect(client.closed).to.equal(false);
  }
}

describe('http framing rules: one transcript each', () => {
  afterEach(closeAll);

  for (const rule of RULES) {
    describe(`${rule.rule}: ${rule.name}`, () => {
      if (rule.events !== undefined) {
        const events = rule.events;
        it('parses the same split at every byte', () => expectEvents(rule.input, events));
      }
      it('gets its reply over a socket, whole and a byte per write', async () => {
        const { port } = await startServer(readThenAnswer);
        await exchange(port, rule.input, false, rule);
        await exchange(port, rule.input, true, rule);
      });
    });
  }
});

/** E1: a head that never completes is answered 408 at the head timeout, wherever it stops. */
const UNFINISHED_HEADS: Array<[string, string]> = [
  ['a method only', 'GET'],
  ['a request line without its CRLF', 'GET / HTTP/1.1'],
  ['a request line ending in CR', 'GET / HTTP/1.1\r'],
  ['a field name', 'GET / HTTP/1.1\r\nHost'],
  ['a head without its final CRLF', 'GET / HTTP/1.1\r\nHost: a\r\n'],
  ['CRLF only', '\r\n'],
];

describe('http framing rules: E1, no head is left waiting', () => {
  afterEach(closeAll);

  for (const [name, input] of UNFINISHED_HEADS) {
    it(`${name}: 408 and close at the head timeout`, async () => {
      const { port } = await startServer(readThenAnswer, { headTimeoutMs: 300 });
      const client = await RawClient.connect(port);
      client.write(input);
      const [response] = await client.responses(1);
      expect(response!.status).to.equal(408);
      expect(response!.headers.connection).to.equal('close');
      await client.waitClosed();
    });
  }
});
