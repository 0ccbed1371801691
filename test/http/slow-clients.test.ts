/**
 * Clients that hold connections: a body trickling below the minimum rate is cut with 408 within
 * a bounded time, and one address past connectionsPerClientMax gets 503 while its other
 * connections are served. Real sockets; every wait is on an event, bounded.
 */
import { expect } from 'chai';
import type { HttpRequest, HttpResponse } from '../../lib/http/types.js';
import { closeAll, RawClient, startServer } from './wire-client.js';

/** Reads the whole body, then answers with its length. */
async function countBody(req: HttpRequest, res: HttpResponse): Promise<void> {
  let bytes = 0;
  for await (const chunk of req.body) bytes += (chunk as Buffer).length;
  res.end(`${bytes}`);
}

const RATE_LIMITS = { bodyRateWindowMs: 200, bodyBytesPerWindowMin: 100, headTimeoutMs: 10_000 };

/** Sends `total` bytes of body in pieces of `pieceBytes`, one piece every `everyMs`. */
function trickle(client: RawClient, total: number, pieceBytes: number, everyMs: number): () => void {
  let sent = 0;
  const timer = setInterval(() => {
    if (client.closed || sent >= total) {
      clearInterval(timer);
      return;
    }
    const n = Math.min(pieceBytes, total - sent);
    client.write('x'.repeat(n));
    sent += n;
  }, everyMs);
  return () => clearInterval(timer);
}

describe('http server: slow clients', () => {
  afterEach(closeAll);

  it('cuts a body that trickles below the minimum rate with 408 and closes', async () => {
    const { port } = await startServer(countBody, RATE_LIMITS);
    const client = await RawClient.connect(port);
    const started = Date.now();
    client.write('POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n');
    const stop = trickle(client, 100_000, 1, 50);
    try {
      // The stall timeout (10 s) never fires: a byte arrives every 50 ms. Only the rate cuts it.
      const [response] = await client.responses(1);
      expect(response!.status).to.equal(408);
      expect(response!.headers.connection).to.equal('close');
      expect(response!.body.toString()).to.match(/slower than 100 bytes per 200 ms/);
      await client.waitClosed();
      expect(Date.now() - started).to.be.below(5_000);
    } finally {
      stop();
    }
  });

  it('cuts a chunked body that trickles below the minimum rate', async () => {
    const { port } = await startServer(countBody, RATE_LIMITS);
    const client = await RawClient.connect(port);
    client.write('POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n');
    const stop = trickle(client, 0x100000, 1, 50);
    try {
      const [response] = await client.responses(1);
      expect(response!.status).to.equal(408);
      await client.waitClosed();
    } finally {
      stop();
    }
  });

  it('serves a body that arrives slowly but above the minimum rate', async () => {
    const { port } = await startServer(countBody, RATE_LIMITS);
    const client = await RawClient.connect(port);
    client.write('POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 1500\r\n\r\n');
    // 50 bytes every 25 ms: 400 bytes per 200 ms window, four times the minimum.
    const stop = trickle(client, 1500, 50, 25);
    try {
      const [response] = await client.responses(1);
      expect(response!.status).to.equal(200);
      expect(response!.body.toString()).to.equal('1500');
      expect(client.closed).to.equal(false);
    } finally {
      stop();
    }
  });

  it('does not count time the handler leaves the body unread', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const { port } = await startServer(async (req, res) => {
      await gate;
      await countBody(req, res);
    }, { ...RATE_LIMITS, bodyBytesPerWindowMin: 1 });
    const client = await RawClient.connect(port);
    // 256 KiB fills the body stream past its high-water mark: reading pauses, the rate clock stops.
    client.write(`POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${256 * 1024}\r\n\r\n`);
    client.write(Buffer.alloc(256 * 1024, 0x78));
    // The input under test is time itself: five windows pass with the server not reading (the
    // wait ends early if the server cuts the connection). Then the handler reads and answers.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1_000);
      client.socket.once('close', () => { clearTimeout(timer); resolve(); });
    });
    release();
    const [response] = await client.responses(1);
    expect(response!.status).to.equal(200);
    expect(response!.body.toString()).to.equal(`${256 * 1024}`);
  });

  it('refuses a connection past connectionsPerClientMax from one address with 503', async () => {
    const { server, port } = await startServer((req, res) => res.end(req.path), {
      connectionsPerClientMax: 3,
    });
    const held = await Promise.all([1, 2, 3].map(() => RawClient.connect(port)));
    // A partial head on each: the server holds them, waiting.
    for (const client of held) client.write('GET /held HTTP/1.1\r\n');
    const extra = await RawClient.connect(port);
    const [refused] = await extra.responses(1);
    expect(refused!.status).to.equal(503);
    expect(refused!.headers.connection).to.equal('close');
    expect(refused!.body.toString()).to.match(/Too many connections from this address/);
    await extra.waitClosed();
    expect(server.connectionCount).to.equal(3);
    // The connections already open are still served.
    for (const client of held) client.write('Host: t\r\n\r\n');
    for (const client of held) {
      const [response] = await client.responses(1);
      expect(response!.status).to.equal(200);
      expect(response!.body.toString()).to.equal('/held');
    }
    // Once one closes, the address may open another.
    held[0]!.socket.end();
    await held[0]!.waitClosed();
    let accepted: RawClient | null = null;
    for (let attempt = 0; attempt < 50 && accepted === null; attempt++) {
      const next = await RawClient.connect(port);
      next.write('GET /again HTTP/1.1\r\nHost: t\r\n\r\n');
      const [response] = await next.responses(1);
      if (response!.status === 200) accepted = next;
      else await next.waitClosed();
    }
    expect(accepted, 'a connection accepted after one closed').to.not.equal(null);
  });
});
