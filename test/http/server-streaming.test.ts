import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BODY_STREAM_HIGH_WATER_BYTES } from '../../lib/http/limits.js';
import { closeAll, RawClient, startServer, WAIT_MS } from './wire-client.js';

const MIB = 1024 * 1024;
/** A socket read is at most 64 KiB; the body buffer may pass its mark by a read or two. */
const BODY_BUFFERED_BYTES_MAX = BODY_STREAM_HIGH_WATER_BYTES + 2 * 64 * 1024;
/** Event-loop turns a handler stops reading for (each turn may bring a socket read). */
const STALL_TURNS = 2_000;

/** Deterministic, non-repeating-looking bytes: chunk i is filled from seed i. */
function patternChunk(index: number, size: number): Buffer {
  const chunk = Buffer.allocUnsafe(size);
  let x = (index * 2654435761) >>> 0;
  for (let i = 0; i < size; i += 4) {
    x = (x * 1664525 + 1013904223) >>> 0;
    chunk.writeUInt32LE(x, i);
  }
  return chunk;
}

/** A Readable of `total` pattern bytes, produced only on demand; counts what it produced. */
function patternSource(total: number, chunkSize: number): { source: Readable; produced: () => number } {
  let produced = 0;
  let index = 0;
  const source = new Readable({
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const chunk = patternChunk(index++, Math.min(chunkSize, total - produced));
      produced += chunk.length;
      this.push(chunk);
    },
  });
  return { source, produced: () => produced };
}

/** Writes `total` pattern bytes to the client socket with backpressure; returns their hash. */
async function sendPattern(client: RawClient, total: number, chunkSize: number, chunked: boolean): Promise<string> {
  const hash = createHash('sha256');
  let sent = 0;
  for (let index = 0; sent < total; index++) {
    const chunk = patternChunk(index, Math.min(chunkSize, total - sent));
    hash.update(chunk);
    sent += chunk.length;
    const framed = chunked ? [Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')] : [chunk];
    let ok = true;
    for (const part of framed) ok = client.socket.write(part);
    if (!ok) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('upload stalled')), WAIT_MS);
        client.socket.once('drain', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  if (chunked) client.write('0\r\n\r\n');
  return hash.digest('hex');
}

describe('http server: streaming with backpressure', () => {
  afterEach(closeAll);

  for (const [name, total, chunked] of [
    ['a 256 MiB Content-Length upload', 256 * MIB, false],
    ['a 64 MiB chunked upload', 64 * MIB, true],
  ] as const) {
    it(`streams ${name} through a slow reader without buffering it`, async () => {
      let maxBuffered = 0;
      const rssBefore = process.memoryUsage().rss;
      const { port } = await startServer(async (req, res) => {
        const hash = createHash('sha256');
        let count = 0;
        let stalled = false;
        for await (const chunk of req.body) {
          hash.update(chunk as Buffer);
          count += (chunk as Buffer).length;
          if (!stalled && count >= 8 * MIB) {
            // Stop reading for a while: the socket keeps receiving unless it is paused, so
            // the buffered count shows whether backpressure reached the socket.
            stalled = true;
            for (let turn = 0; turn < STALL_TURNS; turn++) {
              await new Promise((resolve) => setImmediate(resolve));
              maxBuffered = Math.max(maxBuffered, req.body.readableLength);
            }
          }
        }
        res.end(`${count} ${hash.digest('hex')}`);
      }, { bodyBytesMax: 1024 * MIB });
      const client = await RawClient.connect(port);
      const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`;
      client.write(`PUT /big HTTP/1.1\r\nHost: t\r\n${framing}\r\n\r\n`);
      const sentHash = await sendPattern(client, total, MIB, chunked);
      const [response] = await client.responses(1);
      expect(response!.body.toString()).to.equal(`${total} ${sentHash}`);
      expect(maxBuffered).to.be.at.most(BODY_BUFFERED_BYTES_MAX);
      // Had the body been held in memory, the process would have grown by its whole size.
      expect(process.memoryUsage().rss - rssBefore).to.be.below(total / 2);
    });
  }

  it('streams a response of unknown length as chunked, paced by a slow client', async () => {
    const total = 64 * MIB;
    const { source, produced } = patternSource(total, 64 * 1024);
    const { port } = await startServer((_req, res) => {
      res.setHeader('Content-Type', 'application/octet-stream');
      return res.stream(source);
    });
    const client = await RawClient.connect(port);
    let lead = 0;
    client.socket.on('data', () => {
      lead = Math.max(lead, produced() - client.received.length);
      client.socket.pause();
      setImmediate(() => client.socket.resume());
    });
    client.write('GET /download HTTP/1.1\r\nHost: t\r\n\r\n');
    const [response] = await client.responses(1);
    expect(response!.headers['transfer-encoding']).to.equal('chunked');
    expect(response!.headers['content-length']).to.equal(undefined);
    expect(response!.body.length).to.equal(total);
    const expected = patternSource(total, 64 * 1024);
    const hash = createHash('sha256');
    for await (const chunk of expected.source) hash.update(chunk as Buffer);
    expect(createHash('sha256').update(response!.body).digest('hex')).to.equal(hash.digest('hex'));
    // Backpressure: the server never ran far ahead of what the client had read (socket
    // buffers in between hold a few MiB at most).
    expect(lead).to.be.below(16 * MIB);
  });

  it('streams a response of known length with Content-Length', async () => {
    const { port } = await startServer((_req, res) => res.stream(Readable.from([Buffer.from('abc'), Buffer.from('defg')]), 7));
    const client = await RawClient.connect(port);
    client.write('GET /known HTTP/1.1\r\nHost: t\r\n\r\nGET /known HTTP/1.1\r\nHost: t\r\n\r\n');
    const responses = await client.responses(2);
    for (const response of responses) {
      expect(response.headers['content-length']).to.equal('7');
      expect(response.headers['transfer-encoding']).to.equal(undefined);
    }
    expect(responses[1]!.body.toString()).to.equal('abcdefg');
  });

  it('cuts the connection when a stream gives fewer bytes than its declared length', async () => {
    let failure: unknown = null;
    const { port } = await startServer(async (_req, res) => {
      try {
        await res.stream(Readable.from([Buffer.from('short')]), 10);
      } catch (err) {
        failure = err;
      }
    });
    const client = await RawClient.connect(port);
    client.write('GET /short HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.waitClosed();
    expect(client.text).to.match(/Content-Length: 10\r\n\r\nshort$/);
    expect(String(failure)).to.include('5 of its declared 10 bytes');
  });

  it('sends an HTTP/1.0 stream of unknown length delimited by the close', async () => {
    const { port } = await startServer((_req, res) => res.stream(Readable.from(['one ', 'two'])));
    const client = await RawClient.connect(port);
    client.write('GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await client.waitClosed();
    const [response] = await client.responses(1);
    expect(response!.headers.connection).to.equal('close');
    expect(response!.headers['transfer-encoding']).to.equal(undefined);
    expect(response!.headers['content-length']).to.equal(undefined);
    expect(response!.body.toString()).to.equal('one two');
  });

  it('answers HEAD to a streamed response with its headers only', async () => {
    const { port } = await startServer((_req, res) => res.stream(Readable.from([Buffer.from('body')]), 4));
    const client = await RawClient.connect(port);
    client.write('HEAD /s HTTP/1.1\r\nHost: t\r\n\r\nGET /s HTTP/1.1\r\nHost: t\r\n\r\n');
    const [head, get] = await client.responses(2, { head: [true, false] });
    expect(head!.headers['content-length']).to.equal('4');
    expect(get!.body.toString()).to.equal('body');
  });
});
