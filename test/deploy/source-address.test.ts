/**
 * Every role's outgoing connections and heartbeats leave from its configured host, not from the
 * address the kernel would pick. On Linux every 127.x.y.z is this machine's: a peer listens on
 * 127.0.0.3, the role is configured at 127.0.0.2, and the peer sees which address the connection
 * came from (the kernel alone would choose 127.0.0.1, so each check fails without the binding).
 */
import { expect } from 'chai';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { startHeartbeats } from '../../lib/dispatcher/heartbeat-sender.js';
import { JsonLineClient } from '../../lib/kvclient/json-line-client.js';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import { CoordinatorLink, recoveringHandler } from '../../lib/kvserver/coordinator-link.js';
import { PeerLinks } from '../../lib/kvserver/peer-links.js';
import { createLogger } from '../../lib/protocol/log.js';
import { isWildcardHost, sourceAddressFor } from '../../lib/protocol/source-address.js';

const SECRET = Buffer.alloc(32, 7);
const ROLE_HOST = '127.0.0.2';
const PEER_HOST = '127.0.0.3';
/** Longest wait for the first connection or datagram to arrive. */
const ARRIVAL_WAIT_MS = 10_000;

/** A TCP listener at PEER_HOST that reports the source address of its first connection. */
async function listenForSource(): Promise<{ port: number; source: Promise<string>; server: Server }> {
  let report!: (address: string) => void;
  const source = new Promise<string>((resolve) => { report = resolve; });
  const server = createServer((socket) => {
    report(socket.remoteAddress!);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, PEER_HOST, resolve));
  return { port: (server.address() as { port: number }).port, source: bounded(source, 'a connection'), server };
}

function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ARRIVAL_WAIT_MS} ms`)), ARRIVAL_WAIT_MS);
    }),
  ]);
}

describe('deploy: roles send from their configured host', function () {
  this.timeout(30_000);
  const log = createLogger('test');
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('chooses the configured address, or leaves the choice to the kernel where binding cannot work', () => {
    expect(sourceAddressFor('10.77.0.20', '10.77.0.21')).to.equal('10.77.0.20');
    expect(sourceAddressFor('127.0.0.2', '127.0.0.3')).to.equal('127.0.0.2');
    expect(sourceAddressFor('fd00::2', 'fd00::3')).to.equal('fd00::2');
    expect(sourceAddressFor(undefined, '10.77.0.21')).to.equal(undefined);
    expect(sourceAddressFor('node1.example', '10.77.0.21')).to.equal(undefined);
    expect(sourceAddressFor('0.0.0.0', '10.77.0.21')).to.equal(undefined);
    expect(sourceAddressFor('::', 'fd00::3')).to.equal(undefined);
    expect(sourceAddressFor('10.77.0.20', 'fd00::3')).to.equal(undefined);
    // A loopback address reaches no other machine, and another machine's address is not local.
    expect(sourceAddressFor('127.0.0.1', '10.77.0.21')).to.equal(undefined);
    expect(sourceAddressFor('10.77.0.20', '127.0.0.1')).to.equal(undefined);
    expect(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '::0'].every(isWildcardHost)).to.equal(true);
    expect(['0.0.0.1', '::1', '10.0.0.0', 'localhost'].some(isWildcardHost)).to.equal(false);
  });

  it('a frontend heartbeat leaves from the frontend host (the dispatcher sees that address)', async () => {
    const sourceOf = async (sourceHost: string | undefined): Promise<string> => {
      const dispatcher: UdpSocket = createSocket('udp4');
      cleanups.push(() => dispatcher.close());
      const from = new Promise<string>((resolve) => dispatcher.once('message', (_m, rinfo) => resolve(rinfo.address)));
      await new Promise<void>((resolve) => dispatcher.bind(0, PEER_HOST, resolve));
      const stop = startHeartbeats({
        dispatcherHost: PEER_HOST, dispatcherPort: dispatcher.address().port, intervalMs: 1_000,
        current: () => ({ id: 1, url: `http://${ROLE_HOST}:8000`, connections: 0 }), secret: SECRET, logger: log,
        ...(sourceHost !== undefined ? { sourceHost } : {}),
      });
      cleanups.push(stop);
      return bounded(from, 'heartbeat');
    };
    expect(await sourceOf(ROLE_HOST)).to.equal(ROLE_HOST);
    // The check can tell: left to itself, the kernel sends from 127.0.0.1.
    expect(await sourceOf(undefined)).to.equal('127.0.0.1');
  });

  it("a storage node's line to the coordinator leaves from the node's host", async () => {
    const peer = await listenForSource();
    cleanups.push(() => peer.server.close());
    const link = new CoordinatorLink({ host: PEER_HOST, port: peer.port, sourceHost: ROLE_HOST, heartbeatIntervalMs: 1_000, secret: SECRET, log },
      recoveringHandler(0, 'test'));
    cleanups.push(() => link.stop());
    link.start();
    expect(await peer.source).to.equal(ROLE_HOST);
  });

  it("a storage node's links to its peers leave from the node's host", async () => {
    const peer = await listenForSource();
    cleanups.push(() => peer.server.close());
    const links = new PeerLinks(0, [{ id: 1, host: PEER_HOST, port: peer.port }], 1024 * 1024, log, SECRET, ROLE_HOST);
    cleanups.push(() => links.close());
    links.send(1, { kind: 'refuse', view: 1, reason: 'gap', lastSeq: 0 });
    expect(await peer.source).to.equal(ROLE_HOST);
  });

  it("a frontend's (or mail server's) store connections leave from its host, to nodes and to the coordinator", async () => {
    const node = await listenForSource();
    const coordinator = await listenForSource();
    cleanups.push(() => node.server.close(), () => coordinator.server.close());
    const kv = new KvClient({
      cluster: { nodes: [{ id: 0, host: PEER_HOST, port: node.port }], groups: [[0]], tablets: [{ start: '', group: 0 }] },
      coordinator: { host: PEER_HOST, port: coordinator.port },
      valueBytesMax: 1024 * 1024, requestTimeoutMs: 3_000, secret: SECRET, sourceHost: ROLE_HOST,
    });
    cleanups.push(() => kv.close());
    const read = kv.get('row', 'column').catch((err: Error) => err);
    expect(await node.source).to.equal(ROLE_HOST);
    expect(await coordinator.source).to.equal(ROLE_HOST);
    expect(await read).to.be.instanceOf(Error);
  });

  it("the admin service's control connections leave from the frontend's host", async () => {
    const peer = await listenForSource();
    cleanups.push(() => peer.server.close());
    const client = new JsonLineClient(PEER_HOST, peer.port, 3_000, 'the coordinator', SECRET, ROLE_HOST);
    cleanups.push(() => client.close());
    const reply = client.request({ type: 'map' }).catch((err: Error) => err);
    expect(await peer.source).to.equal(ROLE_HOST);
    expect(await reply).to.be.instanceOf(Error);
  });
});
