import { expect } from 'chai';
import { PennError } from '../../lib/protocol/errors.js';
import type { HttpRequest, HttpResponse } from '../../lib/http/types.js';
import { closeAll, eventually, RawClient, startServer } from './wire-client.js';

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

/** Answers "<method> <path>" as text/plain. */
function echoPath(req: HttpRequest, res: HttpResponse): void {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`${req.method} ${req.path}`);
}

describe('http server: connections', () => {
  afterEach(closeAll);

  it('answers with status line, Date, the handler headers and Content-Length', async () => {
    const { port } = await startServer(echoPath);
    const client = await RawClient.connect(port);
    client.write(GET('/hello'));
    const [response] = await client.responses(1);
    expect(response!.statusLine).to.equal('HTTP/1.1 200 OK');
    expect(response!.rawHead).to.match(
      /^HTTP\/1\.1 200 OK\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\nContent-Type: text\/plain\r\nContent-Length: 10\r\n\r\n$/,
    );
    expect(response!.body.toString()).to.equal('GET /hello');
  });

  it('reuses a keep-alive connection for several requests', async () => {
    const { server, port } = await startServer(echoPath);
    const client = await RawClient.connect(port);
    for (let i = 1; i <= 3; i++) {
      client.write(GET(`/r${i}`));
      const responses = await client.responses(i);
      expect(responses[i - 1]!.body.toString()).to.equal(`GET /r${i}`);
      expect(responses[i - 1]!.headers.connection).to.equal(undefined);
    }
    expect(server.connectionCount).to.equal(1);
    expect(client.closed).to.equal(false);
  });

  it('answers pipelined requests in request order even when later ones finish first', async () => {
    const { port } = await startServer(async (req, res) => {
      // The first request is the slowest: its handler waits for later events to pass.
      const turns = req.path === '/1' ? 20 : req.path === '/2' ? 5 : 0;
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
      res.end(req.path);
    });
    const client = await RawClient.connect(port);
    client.write(GET('/1') + GET('/2') + GET('/3') + `POST /4 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc` + GET('/5'));
    const responses = await client.responses(5);
    expect(responses.map((r) => r.body.toString())).to.deep.equal(['/1', '/2', '/3', '/4', '/5']);
  });

  it('answers 100 pipelined requests sent in one write, in order (queue bound and resume)', async () => {
    const { port } = await startServer(async (req, res) => {
      await new Promise((resolve) => setImmediate(resolve));
      res.end(req.path);
    });
    const client = await RawClient.connect(port);
    let batch = '';
    for (let i = 0; i < 100; i++) batch += GET(`/${i}`);
    client.write(batch);
    const responses = await client.responses(100);
    expect(responses.map((r) => r.body.toString())).to.deep.equal(
      Array.from({ length: 100 }, (_, i) => `/${i}`),
    );
  });

  it('waits for a client that reads slowly before answering its next pipelined request', async () => {
    const size = 256 * 1024;
    let calls = 0;
    const { port } = await startServer((req, res) => {
      calls++;
      res.end(Buffer.alloc(size, req.path.charCodeAt(1)));
    });
    const client = await RawClient.connect(port);
    client.socket.pause();
    let batch = '';
    const names = 'abcdefghijklmnopqrstuvwxyz'.split('');
    for (const name of names) batch += GET(`/${name}`);
    client.write(batch);
    // A 256 KiB answer passes the socket's high-water mark: from the first one on, the server
    // waits for 'drain' before starting the next request.
    await eventually(() => calls >= 1, 'the first answer');
    client.socket.resume();
    const responses = await client.responses(names.length);
    expect(responses.map((r) => r.body.length)).to.deep.equal(names.map(() => size));
    expect(responses.map((r) => String.fromCharCode(r.body[0]!))).to.deep.equal(names);
  });

  it('parses a request sent one byte at a time with gaps', async () => {
    let body = '';
    const { port } = await startServer(async (req, res) => {
      for await (const chunk of req.body) body += (chunk as Buffer).toString();
      res.end(`${req.headers.get('x-long')}`);
    });
    const client = await RawClient.connect(port);
    const request = `PUT /slow HTTP/1.1\r\nHost: t\r\nX-Long: ${'v'.repeat(50)}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`;
    for (const byte of request) {
      client.write(byte);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [response] = await client.responses(1);
    expect(response!.body.toString()).to.equal('v'.repeat(50));
    expect(body).to.equal('abc');
  });

  it('cuts off a client trickling a head past the head timeout with 408', async () => {
    const { port } = await startServer(echoPath, { headTimeoutMs: 300, idleTimeoutMs: 300 });
    const client = await RawClient.connect(port);
    const request = GET('/trickle', `X-Pad: ${'p'.repeat(400)}\r\n`);
    let sent = 0;
    // One byte every 20 ms: 450 bytes would take 9 s, far past the 300 ms head timeout.
    const trickle = setInterval(() => {
      if (sent < request.length && !client.closed) client.write(request[sent++]!);
    }, 20);
    try {
      await client.waitClosed();
    } finally {
      clearInterval(trickle);
    }
    expect(sent).to.be.lessThan(request.length);
    const [response] = await client.responses(1);
    expect(response!.status).to.equal(408);
    expect(response!.headers.connection).to.equal('close');
    expect(JSON.parse(response!.body.toString())).to.deep.equal({
      error: { code: 'TIMEOUT', message: 'Request head not received in time' },
    });
  });

  it('cuts a body that stalls for the head timeout: the reader sees TIMEOUT, the client 408', async () => {
    let seen: unknown = null;
    const { port } = await startServer(async (req, res) => {
      try {
        for await (const chunk of req.body) void chunk;
      } catch (err) {
        seen = err;
        throw err;
      }
      res.end('complete');
    }, { headTimeoutMs: 300 });
    const client = await RawClient.connect(port);
    client.write('PUT /stall HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
    await client.waitClosed();
    const [response] = await client.responses(1);
    expect(response!.status).to.equal(408);
    expect(JSON.parse(response!.body.toString()).error.code).to.equal('TIMEOUT');
    expect((seen as PennError).code).to.equal('TIMEOUT');
  });

  it('closes an idle keep-alive connection after the idle timeout, writing nothing', async () => {
    const { server, port } = await startServer(echoPath, { idleTimeoutMs: 200 });
    const client = await RawClient.connect(port);
    client.write(GET('/once'));
    await client.responses(1);
    const length = client.received.length;
    await client.waitClosed();
    expect(client.received.length).to.equal(length);
    await eventually(() => server.connectionCount === 0, 'the server to forget the connection');
  });

  it('answers HEAD with the GET headers and no body, then serves the next request', async () => {
    const { port } = await startServer((_req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('ETag', '"v1"');
      res.end('twelve bytes');
    });
    const client = await RawClient.connect(port);
    client.write(`HEAD /doc HTTP/1.1\r\nHost: t\r\n\r\n${GET('/doc')}`);
    const [head, get] = await client.responses(2, { head: [true, false] });
    expect(head!.headers['content-length']).to.equal('12');
    expect(head!.headers.etag).to.equal('"v1"');
    expect(get!.rawHead.replace(/Date: .*\r\n/, '')).to.equal(head!.rawHead.replace(/Date: .*\r\n/, ''));
    expect(get!.body.toString()).to.equal('twelve bytes');
    // Nothing but the two heads and one body on the wire.
    expect(client.received.length).to.equal(head!.rawHead.length + get!.rawHead.length + 12);
  });

  it('passes OPTIONS, including OPTIONS *, to the handler', async () => {
    const { port } = await startServer((req, res) => {
      res.status = 204;
      res.setHeader('Allow', req.path === '*' ? 'GET, HEAD, POST, OPTIONS' : 'GET, OPTIONS');
      res.end();
    });
    const client = await RawClient.connect(port);
    client.write('OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\nOPTIONS /x HTTP/1.1\r\nHost: t\r\n\r\n');
    const [star, path] = await client.responses(2);
    expect(star!.statusLine).to.equal('HTTP/1.1 204 No Content');
    expect(star!.headers.allow).to.equal('GET, HEAD, POST, OPTIONS');
    expect(star!.headers['content-length']).to.equal(undefined);
    expect(path!.headers.allow).to.equal('GET, OPTIONS');
  });

  it('keeps an HTTP/1.0 connection only with Connection: keep-alive', async () => {
    const { port } = await startServer(echoPath);
    const kept = await RawClient.connect(port);
    kept.write('GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const [first] = await kept.responses(1);
    expect(first!.headers.connection).to.equal('keep-alive');
    kept.write('GET /b HTTP/1.0\r\n\r\n');
    const [, second] = await kept.responses(2);
    expect(second!.headers.connection).to.equal('close');
    await kept.waitClosed();
  });

  it('closes after a request with Connection: close and ignores what follows it', async () => {
    let calls = 0;
    const { port } = await startServer((req, res) => {
      calls++;
      echoPath(req, res);
    });
    const client = await RawClient.connect(port);
    client.write(GET('/last', 'Connection: close\r\n') + GET('/ignored'));
    await client.waitClosed();
    const responses = await client.responses(1);
    expect(responses).to.have.length(1);
    expect(responses[0]!.headers.connection).to.equal('close');
    expect(calls).to.equal(1);
  });

  it('closes after requestsPerConnectionMax requests', async () => {
    const { port } = await startServer(echoPath, { requestsPerConnectionMax: 2 });
    const client = await RawClient.connect(port);
    client.write(GET('/1') + GET('/2') + GET('/3'));
    await client.waitClosed();
    const responses = await client.responses(2);
    expect(responses.map((r) => r.body.toString())).to.deep.equal(['GET /1', 'GET /2']);
    expect(responses[0]!.headers.connection).to.equal(undefined);
    expect(responses[1]!.headers.connection).to.equal('close');
  });

  it('sends 100 Continue only when the handler reads the body', async () => {
    const { port } = await startServer(async (req, res) => {
      let length = 0;
      for await (const chunk of req.body) length += (chunk as Buffer).length;
      res.end(`read ${length}`);
    });
    const client = await RawClient.connect(port);
    client.write('PUT /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    await client.until(() => client.text.length >= 25, 'the interim response');
    expect(client.text).to.equal('HTTP/1.1 100 Continue\r\n\r\n');
    client.write('hello');
    const [interim, final] = await client.responses(2);
    expect(interim!.status).to.equal(100);
    expect(final!.body.toString()).to.equal('read 5');
    expect(final!.headers.connection).to.equal(undefined);
  });

  it('answers without 100 Continue when the handler ignores the body, and closes', async () => {
    const { port } = await startServer((_req, res) => {
      res.status = 403;
      res.end('no');
    });
    const client = await RawClient.connect(port);
    client.write('PUT /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    const [response] = await client.responses(1);
    expect(response!.status).to.equal(403);
    expect(response!.headers.connection).to.equal('close');
    expect(client.text).not.to.include('100 Continue');
    await client.waitClosed();
  });

  it('survives a handler that closes the connection from inside a body data event', async () => {
    let total = 0;
    const { port } = await startServer((req, res) => new Promise<void>((resolve) => {
      req.body.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total === 5000) {
          res.setHeader('Connection', 'close');
          res.end(`got ${total}`);
          resolve();
        }
      });
    }));
    const client = await RawClient.connect(port);
    client.write(`PUT /d HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(10)}`);
    await eventually(() => total === 10, 'the first body bytes');
    // The stream is flowing and empty: the last bytes reach the handler while the parser runs.
    client.write('y'.repeat(4990));
    await client.waitClosed();
    const [response] = await client.responses(1);
    expect(response!.body.toString()).to.equal('got 5000');
    expect(response!.headers.connection).to.equal('close');
  });

  it('drains a small unread body and keeps the connection', async () => {
    const { port } = await startServer(echoPath);
    const client = await RawClient.connect(port);
    client.write(`POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(1000)}${GET('/next')}`);
    const [first, second] = await client.responses(2);
    expect(first!.headers.connection).to.equal(undefined);
    expect(second!.body.toString()).to.equal('GET /next');
  });

  it('closes instead of draining a large unread body', async () => {
    const { port } = await startServer(echoPath);
    const client = await RawClient.connect(port);
    client.write(`POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\nxyz`);
    const [response] = await client.responses(1);
    expect(response!.body.toString()).to.equal('POST /ignore');
    expect(response!.headers.connection).to.equal('close');
    await client.waitClosed();
  });
});

describe('http server: errors and limits', () => {
  afterEach(closeAll);

  it('turns a handler throw into a 500 without internals; the connection stays usable', async () => {
    const { port } = await startServer((req, res) => {
      if (req.path === '/sync') throw new Error('secret database password in stack');
      if (req.path === '/async') return Promise.reject(new TypeError('internal detail'));
      res.end('fine');
      return undefined;
    });
    const client = await RawClient.connect(port);
    client.write(GET('/sync') + GET('/async') + GET('/ok'));
    const [sync, rejected, ok] = await client.responses(3);
    for (const response of [sync!, rejected!]) {
      expect(response.status).to.equal(500);
      expect(response.headers['content-type']).to.equal('application/json');
      expect(response.headers.connection).to.equal(undefined);
      const parsed = JSON.parse(response.body.toString()) as { error: { code: string; message: string } };
      expect(parsed.error.code).to.equal('INTERNAL');
      expect(parsed.error.message).to.match(/^Internal server error \(request id [0-9a-f]+-[0-9a-z]+\)$/);
      expect(response.body.toString()).not.to.match(/secret|internal detail|stack/);
    }
    expect(ok!.body.toString()).to.equal('fine');
  });

  it('maps a PennError to its status and shows its message for a 4xx', async () => {
    const { port } = await startServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      throw new PennError('NOT_FOUND', 'No such folder', { reason: 'NO_FOLDER' });
    });
    const client = await RawClient.connect(port);
    client.write(GET('/missing'));
    const [response] = await client.responses(1);
    expect(response!.status).to.equal(404);
    expect(response!.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(response!.body.toString())).to.deep.equal({
      error: { code: 'NOT_FOUND', message: 'No such folder', reason: 'NO_FOLDER' },
    });
  });

  it('answers 500 when a handler settles without answering', async () => {
    const { port } = await startServer(async () => undefined);
    const client = await RawClient.connect(port);
    client.write(GET('/forgot'));
    const [response] = await client.responses(1);
    expect(response!.status).to.equal(500);
  });

  const limitCases: Array<[string, string, number]> = [
    ['414 for a request line past requestLineBytesMax', GET(`/${'a'.repeat(300)}`), 414],
    ['431 for a head past headBytesMax', GET('/', `X-Big: ${'b'.repeat(600)}\r\n`), 431],
    ['431 for more fields than headersCountMax', GET('/', 'A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n'), 431],
    ['413 for a Content-Length past bodyBytesMax', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n', 413],
    ['400 for Transfer-Encoding with Content-Length', 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n', 400],
    ['505 for HTTP/2.0', 'GET / HTTP/2.0\r\nHost: t\r\n\r\n', 505],
  ];
  for (const [name, request, status] of limitCases) {
    it(`${name}, then closes without reading the next request`, async () => {
      let calls = 0;
      const { port } = await startServer((req, res) => {
        calls++;
        echoPath(req, res);
      }, { requestLineBytesMax: 256, headBytesMax: 512, headersCountMax: 4, bodyBytesMax: 1000 });
      const client = await RawClient.connect(port);
      client.write(request + GET('/after'));
      await client.waitClosed();
      const responses = await client.responses(1);
      expect(responses).to.have.length(1);
      expect(responses[0]!.status).to.equal(status);
      expect(responses[0]!.headers.connection).to.equal('close');
      expect(JSON.parse(responses[0]!.body.toString()).error.message).to.be.a('string');
      expect(calls).to.equal(0);
    });
  }

  it('answers a good request before the bad one pipelined after it, then closes', async () => {
    const { port } = await startServer(async (req, res) => {
      await new Promise((resolve) => setImmediate(resolve));
      echoPath(req, res);
    });
    const client = await RawClient.connect(port);
    client.write(`${GET('/good')}GET /bad HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n${GET('/never')}`);
    await client.waitClosed();
    const responses = await client.responses(2);
    expect(responses.map((r) => r.status)).to.deep.equal([200, 400]);
    expect(responses[0]!.headers.connection).to.equal(undefined);
    expect(responses[1]!.headers.connection).to.equal('close');
    expect(client.text).not.to.include('/never');
  });

  it('never serves a request smuggled in the body of a refused one', async () => {
    const paths: string[] = [];
    const { port } = await startServer((req, res) => {
      paths.push(req.path);
      res.end('served');
    });
    const client = await RawClient.connect(port);
    client.write('POST /front HTTP/1.1\r\nHost: t\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n'
      + `0\r\n\r\n${GET('/admin')}`);
    await client.waitClosed();
    const responses = await client.responses(1);
    expect(responses.map((r) => r.status)).to.deep.equal([400]);
    expect(paths).to.deep.equal([]);
  });

  it('gives a handler reading a body with broken chunked framing a 400 error, then closes', async () => {
    let seen: unknown = null;
    const { port } = await startServer(async (req, res) => {
      try {
        for await (const chunk of req.body) void chunk;
      } catch (err) {
        seen = err;
        throw err;
      }
      res.end('unreachable');
    });
    const client = await RawClient.connect(port);
    client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n');
    await client.waitClosed();
    const [response] = await client.responses(1);
    expect(response!.status).to.equal(400);
    expect((seen as PennError).code).to.equal('BAD_REQUEST');
  });
});
