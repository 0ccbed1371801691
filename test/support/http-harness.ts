/** A real HttpServer on 127.0.0.1 and a raw-socket client, for tests of the layers above it. */
import { connect } from 'node:net';
import { HttpServer } from '../../lib/http/server.js';
import type { RequestHandler } from '../../lib/http/types.js';
import type { HttpLimitsConfig } from '../../conf/config.js';
import { createLogger } from '../../lib/protocol/log.js';

/** How long a raw exchange may take before the test fails rather than hangs. */
export const RAW_EXCHANGE_TIMEOUT_MS = 10_000;

export interface RunningServer {
  server: HttpServer;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts a server with `handler` on a free port. */
export async function startServer(handler: RequestHandler, limits: HttpLimitsConfig = {}): Promise<RunningServer> {
  const server = new HttpServer({ name: 'test', handler, limits, logger: createLogger('test-http') });
  const address = await server.listen(0, '127.0.0.1');
  return { server, port: address.port, url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

/**
 * Writes `request` on a fresh connection and resolves with every byte the server sent until it
 * closed the connection (or `untilBytes` of reply arrived, or `endAfter` text was seen).
 */
export function rawExchange(port: number, request: string | Buffer, options: { until?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete reply within ${RAW_EXCHANGE_TIMEOUT_MS} ms; got: ${Buffer.concat(chunks).toString('latin1')}`));
    }, RAW_EXCHANGE_TIMEOUT_MS);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (options.until !== undefined && Buffer.concat(chunks).toString('latin1').includes(options.until)) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', () => finish());
    socket.write(request);
  });
}

/** Splits a raw reply into status code, lower-cased headers and body text. */
export function parseRawReply(raw: string): { status: number; headers: Map<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, end).split('\r\n');
  const status = Number(head[0]!.split(' ')[1]);
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers, body: raw.slice(end + 4) };
}
