/**
 * Nodes on one host also talk over a Unix-domain socket: the kernel then copies bytes from one
 * process to the other without the TCP stack in between. Replication sends every write to two
 * peers and back, so this is most of what a write costs the primary in system time (bulk
 * transfers ran 1.5-2x faster than over loopback TCP here; small messages cost a fifth less).
 *
 * The socket of node N is `<data dir>/kv-<N>/kv.sock`, next to its store, when its configured
 * host is a loopback address. A node creates it once its TCP port is bound (replacing one a
 * killed node left behind) and removes it when it stops. A peer whose configured host is a
 * loopback address is reached there, from the data directory this node was given (nodes of
 * one host started together share it); when that fails, over TCP. Clients keep to TCP.
 */
import { join } from 'node:path';
import { isLoopbackAddress } from '../protocol/source-address.js';

/** Longest socket path used (the kernel's limit is 107 bytes); a longer one means TCP only. */
const SOCKET_PATH_BYTES_MAX = 100;

/** Whether `host` names this host's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  return isLoopbackAddress(host);
}

/**
 * The Unix-domain socket of node `nodeId` configured at `host`, under the data directory
 * `dataDir`; null when it has none (not a loopback host, or a path too long).
 */
export function localSocketPath(dataDir: string, nodeId: number, host: string): string | null {
  if (!isLoopbackHost(host)) return null;
  const path = join(dataDir, `kv-${nodeId}`, 'kv.sock');
  return Buffer.byteLength(path) <= SOCKET_PATH_BYTES_MAX ? path : null;
}
