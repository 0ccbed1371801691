/**
 * Test support for the services: real KV node processes (three nodes, one tablet each) and a
 * real KvClient, so every service test runs against the store users get.
 */
import { cleanup, clientFor, makeCluster, startNode, track } from '../kvserver/node-process.js';
import type { KvClient } from '../../lib/kvclient/kv-client.js';

const STORE_SHAPE = { nodeCount: 3, tabletStarts: ['', 'i', 'r'], kv: { valueBytesMax: 1024 * 1024 } };
/** Times the cluster's configuration is drawn again because two of its ports came out equal. */
const PORT_DRAWS_MAX = 5;

/** Starts three nodes whose tablets start at "", "i" and "r"; resolves with a client. */
export async function startStore(): Promise<KvClient> {
  let cluster = track(await makeCluster(STORE_SHAPE));
  // Free ports are drawn one listener at a time, so one may come out twice: draw again.
  for (let draw = 1; draw < PORT_DRAWS_MAX && new Set(cluster.ports).size !== cluster.ports.length; draw++) {
    cluster = track(await makeCluster(STORE_SHAPE));
  }
  await Promise.all([0, 1, 2].map((id) => startNode(cluster, id)));
  return clientFor(cluster);
}

/** Kills the nodes and closes the clients (for afterEach). */
export const stopStore = cleanup;

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public nowMs = 1_800_000_000_000) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

/** An async iterable of one buffer, in pieces of `pieceBytes`. */
export async function* piecesOf(data: Buffer, pieceBytes = 7_777): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += pieceBytes) yield data.subarray(at, Math.min(data.length, at + pieceBytes));
}

/** Reads a stream to one buffer (test files are small). */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}
