/**
 * The network side of a node: accepts connections (up to a limit) on its TCP address, and on a
 * loopback address also on its Unix-domain socket (local-socket.ts), and hands each to a
 * KvConnection over the shared store once the peer has proven it knows the cluster secret
 * (lib/protocol/peer-auth.ts); a peer that cannot is refused in words and logged. Graceful stop:
 * no new connections, in-flight writes finish their fsync, the log is closed.
 */
import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { kvFrameBytesMax } from '../protocol/kv-wire.js';
import { RefusalLog, type Logger } from '../protocol/log.js';
import { acceptPeer } from '../protocol/peer-auth.js';
import { KvConnection, type KvRequestHandler } from './kv-connection.js';
import type { KvStore } from './kv-store.js';

/** Connections one node serves at once; more are refused (closed on accept). */
export const CONNECTIONS_MAX = 1024;

export class KvServer {
  private readonly server: Server;
  private readonly local: Server;
  /** The Unix-domain socket listened on, if any. */
  private localPath: string | null = null;
  /** Every accepted socket, authenticated or still proving itself: what CONNECTIONS_MAX bounds. */
  private readonly sockets = new Set<Socket>();

  /**
   * `secret` is the cluster secret peers must prove; `handler` stands in front of the store
   * (replication); by default requests go to the store.
   */
  constructor(private readonly store: KvStore, log: Logger, secret: Buffer, handler?: KvRequestHandler) {
    const target: KvRequestHandler = handler ?? {
      execute: (body, origin) => store.execute(body, origin),
      peerMessage: () => undefined,
    };
    const frameBytesMax = kvFrameBytesMax(store.options.valueBytesMax);
    const refusals = new RefusalLog((m, f) => log.warn(m, f));
    const accept = (socket: Socket): void => {
      if (this.sockets.size >= CONNECTIONS_MAX) {
        refusals.warn('connection refused: too many connections', { max: CONNECTIONS_MAX });
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      acceptPeer(socket, secret, () => new KvConnection(socket, target, frameBytesMax, log), (reason) => refusals.warn('refused an unauthenticated peer', { remote: socket.remoteAddress ?? 'local socket', reason }));
    };
    this.server = createServer(accept);
    this.local = createServer(accept);
  }

  /**
   * Starts listening on TCP, then on the Unix-domain socket `localPath` if given (see
   * local-socket.ts); resolves with the bound TCP address as host:port.
   */
  async listen(host: string, port: number, localPath: string | null = null): Promise<string> {
    await listenOn(this.server, (done) => this.server.listen(port, host, done));
    const address = this.server.address();
    const boundPort = typeof address === 'object' && address !== null ? address.port : port;
    if (localPath !== null) {
      // Holding the TCP port makes this node the one: a file there is a killed node's leftover.
      removeSocketFile(localPath);
      await listenOn(this.local, (done) => this.local.listen(localPath, done));
      this.localPath = localPath;
    }
    return `${host}:${boundPort}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const localClosed = this.localPath === null ? Promise.resolve() : new Promise<void>((resolve) => this.local.close(() => resolve()));
    await this.store.close();
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await localClosed;
    if (this.localPath !== null) removeSocketFile(this.localPath);
  }
}

function listenOn(server: Server, listen: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    listen(() => {
      server.off('error', reject);
      resolve();
    });
  });
}

function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
