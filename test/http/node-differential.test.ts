/**
 * Differential framing test: a corpus of invalid and smuggling requests sent to our server and to
 * a node:http server (default options: llhttp with insecureHTTPParser off). Wherever node:http
 * refuses a request we must refuse it too, and every request must get an answer (or a close)
 * within a bound: none may leave the connection waiting.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'chai';
import { closeAll, startServer } from './wire-client.js';

/** Bound on one exchange; the servers' head timeout is shorter, so a hang is seen as a timeout. */
const EXCHANGE_MS = 4_000;
const HEAD_TIMEOUT_MS = 2_000;

type Verdict = 'accepted' | 'refused' | 'no-answer';

const P = 'POST / HTTP/1.1\r\nHost: a\r\n';
const HIDDEN = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

/** Invalid requests: node:http refuses every one. */
const INVALID: Array<[string, string]> = [
  ['an overflowing Content-Length', `${P}Content-Length: 99999999999999999999999\r\n\r\n`],
  ['two equal Content-Length lines', `${P}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx`],
  ['two differing Content-Length lines', `${P}Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx`],
  ['a Content-Length list', `${P}Content-Length: 1, 1\r\n\r\nx`],
  ['an invalid HTTP version', 'GET / HTTP/1.x\r\nHost: a\r\n\r\n'],
  ['HTTP/1.10', 'GET / HTTP/1.10\r\nHost: a\r\n\r\n'],
  ['a lower-case version', 'GET / http/1.1\r\nHost: a\r\n\r\n'],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'],
  ['HTTP/0.9', 'GET / HTTP/0.9\r\nHost: a\r\n\r\n'],
  ['no version', 'GET /\r\nHost: a\r\n\r\n'],
  ['an unknown protocol token', 'GET / XTTP/1.1\r\nHost: a\r\n\r\n'],
  ['an RTSP version', 'GET / RTSP/1.0\r\nHost: a\r\n\r\n'],
  ['a space after the version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n'],
  ['two spaces after the method', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a tab in the request line', 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a leading space on the request line', ' GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a bare LF ending the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
  ['a bare CR in the request line', 'GET / HTTP/1.1\rHost: a\r\n\r\n'],
  ['a bare LF ending the head', 'GET / HTTP/1.1\r\nHost: a\r\n\n'],
  ['a bare LF ending a field line', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n'],
  ['a NUL in the target', 'GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
  ['a tab before the colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n'],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n'],
  ['a field without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nXb\r\n\r\n'],
  ['an empty field name', 'GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n'],
  ['a NUL in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n'],
  ['a DEL in a field name', 'GET / HTTP/1.1\r\nHost: a\r\nX\x7f: b\r\n\r\n'],
  ['a Content-Length with a plus sign', `${P}Content-Length: +1\r\n\r\nx`],
  ['a negative Content-Length', `${P}Content-Length: -1\r\n\r\n`],
  ['a hexadecimal Content-Length', `${P}Content-Length: 0x1\r\n\r\nx`],
  ['a Content-Length with an inner space', `${P}Content-Length: 1 1\r\n\r\n`],
  ['an empty Content-Length', `${P}Content-Length:\r\n\r\n`],
  ['a Content-Length followed by a letter', `${P}Content-Length: 1a\r\n\r\nx`],
  ['Transfer-Encoding with Content-Length', `${P}Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n`],
  ['an invalid chunk size', `${P}Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n`],
  ['a chunk without its CRLF', `${P}Transfer-Encoding: chunked\r\n\r\n1\r\nxy0\r\n\r\n`],
  ['a chunk size with a bare LF', `${P}Transfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n`],
  ['a space inside a chunk size', `${P}Transfer-Encoding: chunked\r\n\r\n1 0\r\n${'x'.repeat(16)}\r\n0\r\n\r\n`],
  ['an overflowing chunk size', `${P}Transfer-Encoding: chunked\r\n\r\n${'f'.repeat(20)}\r\n`],
  ['a bare CR in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n'],
  ['a method with a slash', 'G/T / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['an empty method', ' / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a garbage line', 'hello\r\n\r\n'],
  ['two CRLFs then garbage', '\r\n\r\nhello\r\n\r\n'],
  ['a field name with a space inside', 'GET / HTTP/1.1\r\nHost: a\r\nX Y: b\r\n\r\n'],
  ['a header line that is only a colon', 'GET / HTTP/1.1\r\nHost: a\r\n:\r\n\r\n'],
  ['an LF before the request line', '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['a bare CR before the request line', '\rGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
];

/** Smuggling vectors: a first request whose framing hides GET /smuggled. */
const SMUGGLING: Array<[string, string]> = [];
const CL_VALUES = ['5', ' 5', '5 ', '\t5', '5\t', '05', '+5', '5,5', '5, 5', '5.0', '5e0', '0x5', '5 0'];
for (const value of CL_VALUES) {
  SMUGGLING.push([`Content-Length:${value}`, `${P}Content-Length:${value}\r\n\r\nhello${HIDDEN}`]);
}
const TE_VALUES = [
  'chunked', ' chunked', 'chunked ', '\tchunked', 'CHUNKED', 'chunked, chunked', 'gzip, chunked',
  'chunked, gzip', 'identity', 'identity, chunked', 'x chunked', 'chunked;a=b', '"chunked"',
  'chunk', 'chunked\x0b', ',chunked',
];
for (const value of TE_VALUES) {
  SMUGGLING.push([`Transfer-Encoding:${value}`, `${P}Transfer-Encoding:${value}\r\n\r\n0\r\n\r\n${HIDDEN}`]);
  SMUGGLING.push([`Transfer-Encoding:${value} with Content-Length`,
    `${P}Transfer-Encoding:${value}\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${HIDDEN}`]);
  SMUGGLING.push([`Content-Length then Transfer-Encoding:${value}`,
    `${P}Content-Length: 5\r\nTransfer-Encoding:${value}\r\n\r\n0\r\n\r\n${HIDDEN}`]);
}
const NAME_VARIANTS = ['Transfer-Encoding ', 'Transfer_Encoding', ' Transfer-Encoding', 'Transfer-Encoding\t',
  'Content-Length ', 'Content_Length'];
for (const name of NAME_VARIANTS) {
  SMUGGLING.push([`field name "${name}"`, `${P}${name}: 5\r\n\r\n0\r\n\r\n${HIDDEN}`]);
}
const CHUNK_LINES = [
  '0;a b', '0 ;a', '0; a', '0;a=b c', '0;a=\x7f', '0;="x"', '0;a="b', '0;a="b\\"c"', '0;', '0;;',
  '0\t', '00', '0x0', '-0', '+0', '0;a=\x80', '0;a\x00',
];
for (const line of CHUNK_LINES) {
  SMUGGLING.push([`last chunk ${JSON.stringify(line)}`, `${P}Transfer-Encoding: chunked\r\n\r\n${line}\r\n\r\n${HIDDEN}`]);
}
const TRAILERS = ['Content-Length: 5', 'X : a', 'X:\x00', ' X: a', 'X', ': a', 'X: a\rb', 'Transfer-Encoding: chunked'];
for (const trailer of TRAILERS) {
  SMUGGLING.push([`trailer ${JSON.stringify(trailer)}`, `${P}Transfer-Encoding: chunked\r\n\r\n0\r\n${trailer}\r\n\r\n${HIDDEN}`]);
}
const NAME_BYTES = ['(', ')', '@', '"', '/', '[', '{', '=', '?', '\x80', '\xff', '\x01', ','];
for (const byte of NAME_BYTES) {
  SMUGGLING.push([`field name with ${JSON.stringify(byte)}`, `${P}X${byte}Y: a\r\nContent-Length: 5\r\n\r\nhello${HIDDEN}`]);
}
const VALUE_BYTES = ['\x01', '\x7f', '\x1f', '\x0c', '\x0b'];
for (const byte of VALUE_BYTES) {
  SMUGGLING.push([`field value with ${JSON.stringify(byte)}`, `${P}X: a${byte}b\r\nContent-Length: 5\r\n\r\nhello${HIDDEN}`]);
}
const TARGETS = ['/a b', '/\x7f', '/\x01', '/\x80', '/"', '/<>', '/a\tb', 'http://a/b', 'a', '//a', '*'];
for (const target of TARGETS) {
  SMUGGLING.push([`target ${JSON.stringify(target)}`, `GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n${HIDDEN}`]);
}
const METHODS = ['get', 'G ET', 'GET\x00', 'G(T', 'GET/', '\x80GET'];
for (const method of METHODS) {
  SMUGGLING.push([`method ${JSON.stringify(method)}`, `${method} / HTTP/1.1\r\nHost: a\r\n\r\n${HIDDEN}`]);
}
const HOSTS = ['a b', 'a/b', 'a@b', '', 'a\tb', 'a:80', '[::1]:80'];
for (const host of HOSTS) {
  SMUGGLING.push([`Host ${JSON.stringify(host)}`, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n${HIDDEN}`]);
}
SMUGGLING.push(['CRLF between pipelined requests', `GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n${HIDDEN}`]);
SMUGGLING.push(['two CRLFs between pipelined requests', `GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\n${HIDDEN}`]);
SMUGGLING.push(['a bare LF between pipelined requests', `GET / HTTP/1.1\r\nHost: a\r\n\r\n\n${HIDDEN}`]);
SMUGGLING.push(['a GET with a body', `GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello${HIDDEN}`]);
SMUGGLING.push(['chunk extension with a bare LF', `${P}Transfer-Encoding: chunked\r\n\r\n0;a\n\r\n${HIDDEN}`]);
SMUGGLING.push(['chunk extension with a quote', `${P}Transfer-Encoding: chunked\r\n\r\n0;a="\r\n"\r\n\r\n${HIDDEN}`]);
SMUGGLING.push(['chunked trailer with a bare LF', `${P}Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\n\r\n${HIDDEN}`]);
SMUGGLING.push(['HTTP/1.0 with Transfer-Encoding', `POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${HIDDEN}`]);
SMUGGLING.push(['obs-fold on Transfer-Encoding', `${P}Transfer-Encoding: x\r\n chunked\r\n\r\n0\r\n\r\n${HIDDEN}`]);
SMUGGLING.push(['a bare CR after Content-Length', `${P}Content-Length: 5\r\r\n\r\nhello${HIDDEN}`]);

/**
 * Where node:http refuses and the RFC says the request is valid, we follow the RFC:
 * - RFC 9110 §5.5: whitespace around a field value is not part of it, so "5<HTAB>" is the
 *   Content-Length 5 (llhttp refuses a trailing tab but accepts a trailing space);
 * - RFC 9110 §5.6.3: a recipient MUST accept BWS, here after the ";" of a chunk extension;
 * - RFC 9110 §9.1: a method is a case-sensitive token; "get" is not GET but is well-formed (the
 *   router refuses a method it does not know), where llhttp knows only its own list.
 */
const RFC_VALID = new Set(['Content-Length:5\t', 'last chunk "0; a"', 'method "get"']);

/** What one server does with `input`: its first status (if any), and whether /smuggled ran. */
interface Outcome {
  verdict: Verdict;
  smuggled: boolean;
}

function exchange(port: number, input: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      let verdict: Verdict = 'no-answer';
      // Refused: any 4xx/5xx, or a close before an answer. A server may answer the first
      // request and refuse the bytes after it: the hidden request is still not served.
      if (/HTTP\/1\.[01] [45]\d\d/.test(received) || (status === null && closedByPeer)) verdict = 'refused';
      else if (status !== null) verdict = 'accepted';
      resolve({ verdict, smuggled: received.includes('/smuggled') });
    };
    let closedByPeer = false;
    const timer = setTimeout(finish, EXCHANGE_MS);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closedByPeer = true;
      finish();
    });
    socket.on('connect', () => {
      socket.write(Buffer.from(input, 'latin1'));
    });
    socket.on('data', () => {
      const count = (received.match(/HTTP\/1\.[01] \d{3}/g) ?? []).length;
      const expected = (input.match(/ HTTP\/1\.[01]\r\n/g) ?? []).length;
      if (count >= expected || /^HTTP\/1\.[01] [45]/.test(received)) setImmediate(finish);
    });
  });
}

describe('http framing: differential against node:http', function () {
  this.timeout(120_000);
  let reference: Server;
  let referencePort = 0;

  before(async () => {
    reference = createServer({ insecureHTTPParser: false, headersTimeout: HEAD_TIMEOUT_MS, requestTimeout: HEAD_TIMEOUT_MS }, (req, res) => {
      req.resume();
      req.on('end', () => res.end(req.url));
    });
    await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
    referencePort = (reference.address() as { port: number }).port;
  });
  after(async () => {
    reference.closeAllConnections();
    await new Promise((resolve) => reference.close(resolve));
  });
  afterEach(closeAll);

  async function compare(corpus: Array<[string, string]>, label: string): Promise<string[]> {
    // Like the reference, answer once the body is read, so a broken body is what is judged.
    const { port } = await startServer(async (req, res) => {
      await new Promise<void>((resolve, reject) => {
        req.body.on('error', reject);
        req.body.on('end', resolve);
        req.body.resume();
      });
      res.end(req.path);
    }, { headTimeoutMs: HEAD_TIMEOUT_MS });
    const laxer: string[] = [];
    const results = await Promise.all(corpus.map(async ([name, input]) => {
      const [ref, our] = await Promise.all([exchange(referencePort, input), exchange(port, input)]);
      return { name, ref, our };
    }));
    let refRefused = 0;
    let ourRefused = 0;
    let noAnswer = 0;
    for (const { name, ref, our } of results) {
      if (RFC_VALID.has(name)) continue;
      if (ref.verdict !== 'accepted') refRefused++;
      if (our.verdict === 'refused') ourRefused++;
      if (our.verdict === 'no-answer') {
        noAnswer++;
        laxer.push(`${name}: no answer (node:http ${ref.verdict})`);
      } else if (ref.verdict !== 'accepted' && our.verdict === 'accepted') {
        laxer.push(`${name}: accepted (node:http ${ref.verdict})`);
      } else if (our.smuggled && !ref.smuggled) {
        laxer.push(`${name}: hidden request served`);
      }
    }
    console.log(`  ${label}: node:http refused ${refRefused}/${corpus.length}, we refused ${ourRefused}/${corpus.length}, no answer ${noAnswer}, laxer ${laxer.length}/${corpus.length}`);
    return laxer;
  }

  it('refuses every invalid request node:http refuses, and answers each', async () => {
    const laxer = await compare(INVALID, 'invalid');
    expect(laxer).to.deep.equal([]);
  });

  it('is nowhere laxer than node:http on the smuggling corpus', async () => {
    const laxer = await compare(SMUGGLING, 'smuggling');
    expect(laxer).to.deep.equal([]);
  });
});
