/**
 * HTTPS: the same server over node:tls. A real handshake with a self-signed certificate,
 * keep-alive and pipelining on one TLS connection, the default fields on every reply, and
 * clients that never finish a handshake (garbage, plain HTTP, silence) are dropped without
 * harm to anyone else.
 */
import { expect } from 'chai';
import { request as httpsRequest } from 'node:https';
import type { HttpRequest, HttpResponse } from '../../lib/http/types.js';
import { cleanupTempDirs } from '../support/roles.js';
import { makeSelfSignedCert, type TestCert } from '../support/self-signed-cert.js';
import { closeAll, RawClient, startServer } from './wire-client.js';

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

/** Answers "<path> secure=<bool>". */
function echoSecure(req: HttpRequest, res: HttpResponse): void {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`${req.path} secure=${req.secure}`);
}

describe('http server: HTTPS (node:tls)', () => {
  let cert: TestCert;

  before(() => {
    cert = makeSelfSignedCert();
  });

  after(() => cleanupTempDirs());
  afterEach(closeAll);

  const tls = () => ({ key: cert.key, cert: cert.cert });

  it('completes a handshake and answers node:https, telling the handler the request is secure', async () => {
    const { port } = await startServer(echoSecure, {}, { tls: tls(), defaultFields: [['X-Frame-Options', 'DENY']] });
    const reply = await new Promise<{ status: number; body: string; frame: string | undefined }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/hello', ca: cert.cert, servername: 'localhost', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode!, body, frame: res.headers['x-frame-options'] as string | undefined }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(reply).to.deep.equal({ status: 200, body: '/hello secure=true', frame: 'DENY' });
  });

  it('keeps a TLS connection alive across requests and answers pipelined ones in order', async () => {
    const { server, port } = await startServer(echoSecure, {}, { tls: tls() });
    const client = await RawClient.connectTls(port, cert.cert);
    client.write(GET('/1'));
    expect((await client.responses(1))[0]!.body.toString()).to.equal('/1 secure=true');
    client.write(GET('/2') + GET('/3'));
    const responses = await client.responses(3);
    expect(responses.map((r) => r.body.toString())).to.deep.equal(['/1 secure=true', '/2 secure=true', '/3 secure=true']);
    expect(server.connectionCount).to.equal(1);
    expect(client.closed).to.equal(false);
  });

  it('a plain-HTTP request or garbage instead of a client hello is dropped; the server goes on serving', async () => {
    const { server, port } = await startServer(echoSecure, {}, { tls: tls() });
    const plain = await RawClient.connect(port);
    plain.write(GET('/plain'));
    await plain.waitClosed();
    expect(plain.text, 'no HTTP reply in the clear').to.not.contain('HTTP/1.1');
    const garbage = await RawClient.connect(port);
    garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00]));
    await garbage.waitClosed();
    expect(server.connectionCount).to.equal(0);
    const good = await RawClient.connectTls(port, cert.cert);
    good.write(GET('/after'));
    expect((await good.responses(1))[0]!.body.toString()).to.equal('/after secure=true');
  });

  it('a client that never sends its hello is cut at the head timeout', async () => {
    const { port } = await startServer(echoSecure, { headTimeoutMs: 300 }, { tls: tls() });
    const silent = await RawClient.connect(port);
    const started = Date.now();
    await silent.waitClosed();
    expect(Date.now() - started).to.be.at.least(250);
  });

  it('a graceful close cuts a handshake under way instead of waiting out the head timeout', async () => {
    const { server, port } = await startServer(echoSecure, { headTimeoutMs: 60_000 }, { tls: tls() });
    const silent = await RawClient.connect(port);
    const started = Date.now();
    await server.close();
    await silent.waitClosed();
    expect(Date.now() - started).to.be.below(10_000);
  });

  it('a client without the certificate\'s issuer refuses the server', async () => {
    const { port } = await startServer(echoSecure, {}, { tls: tls() });
    const error = await new Promise<Error>((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/', agent: false }, () => resolve(new Error('answered')));
      req.on('error', resolve);
      req.end();
    });
    expect(error.message).to.match(/self[- ]signed/i);
  });
});
