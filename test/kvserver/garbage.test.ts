import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { KvFrameDecoder } from '../../lib/protocol/kv-frame-decoder.js';
import { decodeReply } from '../../lib/protocol/kv-reply-codec.js';
import { encodeRequest } from '../../lib/protocol/kv-request-codec.js';
import { kvFrameBytesMax, type KvReply } from '../../lib/protocol/kv-wire.js';
import { authenticateToPeer } from '../../lib/protocol/peer-auth.js';
import { clusterSecretOf } from '../support/roles.js';
import { cleanup, clientFor, makeCluster, startNode, track, withTimeout, type TestCluster } from './node-process.js';

const WAIT_MS = 10_000;

/** A raw connection: what it received (decoded) and whether the node closed it. */
async function rawConnection(port: number, secret: Buffer): Promise<{ socket: Socket; replies: KvReply[]; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
  await authenticateToPeer(socket, secret);
  socket.resume();
  const replies: KvReply[] = [];
  const decoder = new KvFrameDecoder('reply', kvFrameBytesMax(1024 * 1024));
  socket.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) replies.push(decodeReply(f));
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((res) => socket.once('close', () => res()));
  return { socket, replies, closed };
}

describe('garbage on one connection', function () {
  let cluster: TestCluster;

  beforeEach(async () => {
    cluster = track(await makeCluster());
    await startNode(cluster, 0);
  });
  afterEach(cleanup);

  const garbage: [string, Buffer, string][] = [
    ['random bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'BAD_REQUEST'],
    ['an absurd length', Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]), 'TOO_LARGE'],
  ];
  for (const [name, bytes, status] of garbage) {
    it(`${name}: that connection gets ${status} and is closed; another connection is unharmed`, async () => {
      const port = cluster.kv.nodes[0]!.port;
      const kv = clientFor(cluster);
      await kv.put('keep', 'c', 'before');
      // Many writes in flight on the good connection while the bad one misbehaves.
      const writes = Array.from({ length: 50 }, (_v, i) => kv.put('keep', `c${i}`, `v${i}`));
      const bad = await rawConnection(port, clusterSecretOf(cluster.dataDir));
      // A good request right before the garbage, in the same write, is still served.
      const goodPut = encodeRequest({ op: 'PUT', row: 'bad', column: 'c', value: Buffer.from('applied') }, 1, Buffer.alloc(8));
      bad.socket.write(Buffer.concat([...goodPut, bytes]));
      await withTimeout(bad.closed, WAIT_MS, 'the node did not close the bad connection');
      expect(bad.replies.map((r) => r.status)).to.deep.equal(['OK', status]);
      expect((await kv.get('bad', 'c'))!.toString()).to.equal('applied');
      await Promise.all(writes);
      for (let i = 0; i < 50; i++) expect((await kv.get('keep', `c${i}`))!.toString()).to.equal(`v${i}`);
      expect((await kv.get('keep', 'c'))!.toString()).to.equal('before');
    });
  }

  it('a malformed body in a good frame gets BAD_REQUEST and the connection keeps working', async () => {
    const bad = await rawConnection(cluster.kv.nodes[0]!.port, clusterSecretOf(cluster.dataDir));
    const clientId = Buffer.alloc(8);
    const put = Buffer.concat(encodeRequest({ op: 'PUT', row: 'r', column: 'c', value: Buffer.from('v') }, 1, clientId));
    const broken = Buffer.from(put);
    broken[5] = 0x6e; // no such opcode
    broken.writeUInt32BE(7, 8);
    const get = Buffer.concat(encodeRequest({ op: 'GET', row: 'r', column: 'c' }, 2, clientId));
    bad.socket.write(Buffer.concat([broken, put, get]));
    await withTimeout(new Promise<void>((res) => {
      const poll = setInterval(() => {
        if (bad.replies.length >= 3) {
          clearInterval(poll);
          res();
        }
      }, 5);
    }), WAIT_MS, 'replies did not arrive');
    const byId = new Map(bad.replies.map((r) => [r.requestId, r]));
    expect(byId.get(7)!.status).to.equal('BAD_REQUEST');
    expect(byId.get(1)!.status).to.equal('OK');
    const got = byId.get(2)!;
    expect(got.status === 'VALUE' && got.value.toString()).to.equal('v');
    bad.socket.destroy();
  });
});
