import { expect } from 'chai';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvServer } from '../../lib/kvserver/kv-server.js';
import type { KvStore } from '../../lib/kvserver/kv-store.js';
import { isLoopbackHost, localSocketPath } from '../../lib/kvserver/local-socket.js';
import { PeerLinks } from '../../lib/kvserver/peer-links.js';
import { openKvStore } from '../../lib/kvserver/recovery.js';
import { KvFrameDecoder } from '../../lib/protocol/kv-frame-decoder.js';
import { decodeReply } from '../../lib/protocol/kv-reply-codec.js';
import { encodeRequest } from '../../lib/protocol/kv-request-codec.js';
import { kvFrameBytesMax, type KvReply } from '../../lib/protocol/kv-wire.js';
import { createLogger, setLogLevel } from '../../lib/protocol/log.js';
import { acceptPeer, authenticateToPeer } from '../../lib/protocol/peer-auth.js';
import { storeOptions } from './store-options.js';

/** The cluster secret of these tests' nodes and peers. */
const SECRET = Buffer.alloc(32, 7);

/** Sends one request over the Unix-domain socket at `path`, once authenticated; resolves with the reply. */
function requestOverSocket(path: string, frame: Buffer[]): Promise<KvReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const decoder = new KvFrameDecoder('reply', kvFrameBytesMax(1024 * 1024));
    const timer = setTimeout(() => socket.destroy(new Error('no reply within 10 s')), 10_000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      authenticateToPeer(socket, SECRET).then(() => {
        socket.on('data', (chunk: Buffer) => {
          const [reply] = decoder.push(chunk);
          if (reply === undefined) return;
          clearTimeout(timer);
          socket.destroy();
          resolve(decodeReply(reply));
        });
        socket.resume();
        socket.write(Buffer.concat(frame));
      }, reject);
    });
  });
}

/** A node on a loopback address also listens on its Unix-domain socket (peers use it). */
describe('kvserver: the Unix-domain socket of a node on this host', function () {
  let root: string;
  let store: KvStore;
  let server: KvServer | null = null;

  beforeEach(async () => {
    setLogLevel('silent');
    root = mkdtempSync(join(tmpdir(), 'penncloud-local-'));
    store = await openKvStore(storeOptions(join(root, 'kv-0'), { valueBytesMax: 1024 * 1024 }), [{ start: '', end: null }]);
  });
  afterEach(async () => {
    await server?.stop();
    server = null;
    rmSync(root, { recursive: true, force: true });
  });

  it('names sockets only for loopback addresses', () => {
    expect(isLoopbackHost('127.0.0.1')).to.equal(true);
    expect(isLoopbackHost('127.3.2.1')).to.equal(true);
    expect(isLoopbackHost('localhost')).to.equal(true);
    expect(isLoopbackHost('::1')).to.equal(true);
    expect(isLoopbackHost('10.0.0.7')).to.equal(false);
    expect(isLoopbackHost('kv1.example.org')).to.equal(false);
    expect(localSocketPath('/srv/penncloud', 3, '10.0.0.7')).to.equal(null);
    expect(localSocketPath('/srv/penncloud', 3, '127.0.0.1')).to.equal('/srv/penncloud/kv-3/kv.sock');
    expect(localSocketPath(`/srv/${'d'.repeat(100)}`, 3, '127.0.0.1'), 'a path past the kernel limit: TCP only').to.equal(null);
  });

  it('serves requests over the socket, takes over a file a killed node left, and removes it on stop', async () => {
    server = new KvServer(store, createLogger('test'), SECRET);
    const path = localSocketPath(root, 0, '127.0.0.1')!;
    const address = await server.listen('127.0.0.1', 0, path);
    const port = Number(address.split(':')[1]);
    expect(lstatSync(path).isSocket()).to.equal(true);
    const put = await requestOverSocket(path, encodeRequest({ op: 'PUT', row: 'r', column: 'c', value: Buffer.from('over the socket') }, 1, Buffer.alloc(8, 1)));
    expect(put.status).to.equal('OK');
    const got = await requestOverSocket(path, encodeRequest({ op: 'GET', row: 'r', column: 'c' }, 2, Buffer.alloc(8, 1)));
    expect(got.status === 'VALUE' && got.value.toString()).to.equal('over the socket');
    await server.stop();
    server = null;
    expect(existsSync(path), 'the socket file is removed on stop').to.equal(false);

    // A file left at the path (kill -9 leaves the socket behind) is replaced at the next start.
    writeFileSync(path, 'left behind');
    store = await openKvStore({ ...store.options }, [{ start: '', end: null }]);
    server = new KvServer(store, createLogger('test'), SECRET);
    await server.listen('127.0.0.1', port, path);
    expect(lstatSync(path).isSocket()).to.equal(true);
    const again = await requestOverSocket(path, encodeRequest({ op: 'GET', row: 'r', column: 'c' }, 3, Buffer.alloc(8, 1)));
    expect(again.status === 'VALUE' && again.value.toString()).to.equal('over the socket');
  });

  it('reaches a peer over TCP when its socket is not where this node looks', async () => {
    const received: Buffer[] = [];
    let arrived: () => void = () => undefined;
    const got = new Promise<void>((resolve) => { arrived = resolve; });
    const tcp = createServer((socket) => acceptPeer(socket, SECRET, () => socket.on('data', (d: Buffer) => {
      received.push(d);
      arrived();
    }), () => undefined));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as { port: number }).port;
    const links = new PeerLinks(0, [{ id: 1, host: '127.0.0.1', port, localPath: join(root, 'kv-1', 'kv.sock') }], 1024 * 1024, createLogger('test'), SECRET);
    try {
      links.send(1, { kind: 'ack', view: 3, seq: 7, seqView: 3 });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([got, new Promise((_r, reject) => { timer = setTimeout(() => reject(new Error('nothing arrived over TCP within 10 s')), 10_000); })]);
      clearTimeout(timer);
      expect(Buffer.concat(received).length).to.be.greaterThan(0);
    } finally {
      links.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });
});
