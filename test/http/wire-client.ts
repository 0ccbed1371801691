/**
 * Test helpers for the HTTP server over real sockets: servers on 127.0.0.1 port 0 that are
 * closed after each test, a raw client that records every byte it receives, and a small
 * response reader (Content-Length, chunked, or until close) so tests assert on the wire.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { HttpLimitsConfig } from '../../conf/config.js';
import { HttpServer, type HttpServerOptions } from '../../lib/http/server.js';
import type { RequestHandler } from '../../lib/http/types.js';
import { setLogLevel } from '../../lib/protocol/log.js';

/** Bound on every wait in these tests: generous, since the machine may be busy. */
export const WAIT_MS = 10_000;

setLogLevel('silent');

const open: Array<{ server: HttpServer; sockets: Socket[] }> = [];

/** Starts a server on 127.0.0.1:0; closeAll() (in afterEach) closes it. */
export async function startServer(
  handler: RequestHandler, limits: HttpLimitsConfig = {}, more: Pick<HttpServerOptions, 'tls' | 'defaultFields'> = {},
): Promise<{ server: HttpServer; port: number }> {
  const server = new HttpServer({ handler, limits, name: 'test', ...more });
  const { port } = await server.listen(0, '127.0.0.1');
  open.push({ server, sockets: [] });
  return { server, port };
}

/** Destroys every client socket and closes every server the test opened. */
export async function closeAll(): Promise<void> {
  const all = open.splice(0);
  for (const entry of all) for (const socket of entry.sockets) socket.destroy();
  for (const client of clients.splice(0)) client.socket.destroy();
  await Promise.all(all.map((entry) => entry.server.close()));
}

const clients: RawClient[] = [];

/** A raw TCP client that keeps everything it receives. */
export class RawClient {
  closed = false;
  /** Grows by doubling, so keeping a long response costs linear time. */
  private store = Buffer.alloc(64 * 1024);
  private length = 0;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.length + chunk.length > this.store.length) {
        const grown = Buffer.alloc(Math.max(this.store.length * 2, this.length + chunk.length));
        this.store.copy(grown, 0, 0, this.length);
        this.store = grown;
      }
      chunk.copy(this.store, this.length);
      this.length += chunk.length;
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const client = new RawClient(socket);
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return client;
  }

  /** A TLS connection that trusts `ca`; resolves once the handshake is done. */
  static async connectTls(port: number, ca: Buffer): Promise<RawClient> {
    const socket = tlsConnect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
    socket.setNoDelay(true);
    const client = new RawClient(socket);
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return client;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Every byte received so far. */
  get received(): Buffer {
    return this.store.subarray(0, this.length);
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** Waits until `test` holds (checked on every arrival and on close), bounded by WAIT_MS. */
  async until(test: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (test()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; received so far: ${JSON.stringify(this.text.slice(0, 500))}`));
      }, timeoutMs);
      const check = (): void => {
        if (!test()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  /** Waits for `count` complete responses and returns them. */
  async responses(count: number, options: { head?: boolean[] } = {}): Promise<WireResponse[]> {
    let parsed: WireResponse[] = [];
    await this.until(() => {
      parsed = parseResponses(this.received, this.closed, options.head ?? []);
      return parsed.length >= count;
    }, `${count} response(s)`);
    return parsed;
  }

  /** Waits for the server to close the connection. */
  async waitClosed(): Promise<void> {
    await this.until(() => this.closed, 'the connection to close');
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface WireResponse {
  status: number;
  statusLine: string;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  /** The head exactly as received. */
  rawHead: string;
  body: Buffer;
}

/**
 * Parses every complete response in `bytes` (interim 1xx responses included). `headFlags[i]`
 * marks the i-th final response as an answer to HEAD (no body whatever its headers say).
 */
export function parseResponses(bytes: Buffer, closed: boolean, headFlags: boolean[] = []): WireResponse[] {
  const out: WireResponse[] = [];
  let at = 0;
  let finals = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return out;
    const rawHead = bytes.toString('latin1', at, headEnd + 4);
    const lines = rawHead.slice(0, -4).split('\r\n');
    const statusLine = lines[0]!;
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let bodyStart = headEnd + 4;
    let body: Buffer = Buffer.alloc(0);
    const isHead = status >= 200 && headFlags[finals] === true;
    if (status < 200 || status === 204 || status === 304 || isHead) {
      // no body
    } else if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      let p = bodyStart;
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', p);
        if (lineEnd < 0) return out;
        const size = parseInt(bytes.toString('latin1', p, lineEnd), 16);
        if (size === 0) {
          const trailerEnd = bytes.indexOf('\r\n', lineEnd + 2);
          if (trailerEnd !== lineEnd + 2) return out;
          p = trailerEnd + 2;
          break;
        }
        if (bytes.length < lineEnd + 2 + size + 2) return out;
        parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      bodyStart = p;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (bytes.length < bodyStart + length) return out;
      body = bytes.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    } else {
      if (!closed) return out;
      body = bytes.subarray(bodyStart);
      bodyStart = bytes.length;
    }
    out.push({ status, statusLine, headers, rawHead, body: Buffer.from(body) });
    if (status >= 200) finals++;
    at = bodyStart;
  }
}

/** Resolves once `test` holds, checked after each turn of the event loop; bounded. */
export async function eventually(test: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
