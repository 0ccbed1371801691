/**
 * The TCP side of a node: accepts connections (up to a limit) and hands each to a
 * KvConnection over the shared store. Graceful stop: no new connections, in-flight writes
 * finish their fsync, the log is closed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { kvFrameBytesMax } from '../protocol/kv-wire.js';
import type { Logger } from '../protocol/log.js';
import { KvConnection, type KvRequestHandler } from './kv-connection.js';
import type { KvStore } from './kv-store.js';

/** Connections one node serves at once; more are refused (closed on accept). */
export const CONNECTIONS_MAX = 1024;

export class KvServer {
  private readonly server: Server;
  private readonly connections = new Set<KvConnection>();

  /** `handler` stands in front of the store (replication); by default requests go to the store. */
  constructor(private readonly store: KvStore, private readonly log: Logger, handler?: KvRequestHandler) {
    const target: KvRequestHandler = handler ?? {
      execute: (body, origin) => store.execute(body, origin),
      peerMessage: () => undefined,
    };
    const frameBytesMax = kvFrameBytesMax(store.options.valueBytesMax);
    this.server = createServer((socket: Socket) => {
      if (this.connections.size >= CONNECTIONS_MAX) {
        this.log.warn('connection refused: too many connections', { max: CONNECTIONS_MAX });
        socket.destroy();
        return;
      }
      const connection = new KvConnection(socket, target, frameBytesMax, log);
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    });
  }

  /** Starts listening; resolves with the bound address as host:port. */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? `${host}:${address.port}` : `${host}:${port}`);
      });
    });
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.store.close();
    for (const c of this.connections) c.destroy();
    await closed;
  }
}
