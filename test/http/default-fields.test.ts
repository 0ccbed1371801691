/**
 * A server's default fields (the security headers): on every response, once; a handler's field
 * of the same name replaces the default; the server's own refusals carry them too.
 */
import { expect } from 'chai';
import { prepareDefaultFields } from '../../lib/http/default-fields.js';
import type { HttpRequest, HttpResponse } from '../../lib/http/types.js';
import { PennError } from '../../lib/protocol/errors.js';
import { closeAll, RawClient, startServer } from './wire-client.js';

const DEFAULTS: Array<[string, string]> = [['Content-Security-Policy', "default-src 'self'"], ['X-Frame-Options', 'DENY']];

function handler(req: HttpRequest, res: HttpResponse): void {
  if (req.path === '/own') {
    res.setHeader('content-security-policy', "sandbox; default-src 'none'");
    res.end('own');
  } else if (req.path === '/fail') {
    // Set, then thrown away with everything else the handler set: the error reply has the defaults.
    res.setHeader('x-frame-options', 'SAMEORIGIN');
    throw new PennError('NOT_FOUND', 'nothing here');
  } else {
    res.end('app');
  }
}

/** Every line of a head naming `name` (case-insensitive). */
function lines(head: string, name: string): string[] {
  return head.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
}

describe('http server: default fields', () => {
  afterEach(closeAll);

  it('adds them to a handler\'s reply and to an error reply, each once', async () => {
    const { port } = await startServer(handler, {}, { defaultFields: DEFAULTS });
    const client = await RawClient.connect(port);
    client.write('GET /app HTTP/1.1\r\nHost: t\r\n\r\nGET /fail HTTP/1.1\r\nHost: t\r\n\r\nHEAD /app HTTP/1.1\r\nHost: t\r\n\r\n');
    const replies = await client.responses(3, { head: [false, false, true] });
    for (const reply of replies) {
      expect(lines(reply.rawHead, 'content-security-policy')).to.deep.equal(["Content-Security-Policy: default-src 'self'"]);
      expect(lines(reply.rawHead, 'x-frame-options')).to.deep.equal(['X-Frame-Options: DENY']);
    }
    expect(replies[1]!.statusLine).to.equal('HTTP/1.1 404 Not Found');
  });

  it('leaves out a default whose name the handler set: the handler\'s field is the only one', async () => {
    const { port } = await startServer(handler, {}, { defaultFields: DEFAULTS });
    const client = await RawClient.connect(port);
    client.write('GET /own HTTP/1.1\r\nHost: t\r\n\r\n');
    const [reply] = await client.responses(1);
    expect(lines(reply!.rawHead, 'content-security-policy')).to.deep.equal(["content-security-policy: sandbox; default-src 'none'"]);
    expect(lines(reply!.rawHead, 'x-frame-options')).to.deep.equal(['X-Frame-Options: DENY']);
  });

  it('puts them on the server\'s own refusal of a malformed request', async () => {
    const { port } = await startServer(handler, {}, { defaultFields: DEFAULTS });
    const client = await RawClient.connect(port);
    client.write('GET /app HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    const [reply] = await client.responses(1);
    expect(reply!.statusLine).to.match(/^HTTP\/1\.1 400 /);
    expect(lines(reply!.rawHead, 'content-security-policy')).to.have.length(1);
    expect(lines(reply!.rawHead, 'x-frame-options')).to.deep.equal(['X-Frame-Options: DENY']);
  });

  it('refuses a field given twice or a value that is not ASCII, naming the field', () => {
    expect(() => prepareDefaultFields([['X-A', '1'], ['x-a', '2']])).to.throw(/x-a is given twice/);
    expect(() => prepareDefaultFields([['X-B', 'caf\u00e9']])).to.throw(/X-B must be ASCII/);
  });
});
