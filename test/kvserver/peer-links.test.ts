import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { PeerLinks } from '../../lib/kvserver/peer-links.js';
import { KvFrameDecoder } from '../../lib/protocol/kv-frame-decoder.js';
import { encodeLogRecord, type KvLogRecord } from '../../lib/protocol/kv-log-record.js';
import { decodePeerMessage, type PeerMessage } from '../../lib/protocol/kv-peer-codec.js';
import { kvFrameBytesMax } from '../../lib/protocol/kv-wire.js';
import { createLogger } from '../../lib/protocol/log.js';
import { acceptPeer } from '../../lib/protocol/peer-auth.js';

/** The cluster secret the links prove to the listening peer. */
const SECRET = Buffer.alloc(32, 9);

/** Longest wait for messages to arrive. */
const ARRIVAL_WAIT_MS = 10_000;

/** A peer on a real socket that decodes every frame it receives, within `frameBytesMax`. */
class ListeningPeer {
  /** Every frame received; a stream the decoder refused adds one of 0 bytes. */
  readonly frames: { bytes: number; message: PeerMessage }[] = [];
  private waiting: { done: () => boolean; resolve: () => void } | null = null;

  private constructor(readonly server: Server, readonly port: number) {}

  static async start(frameBytesMax: number): Promise<ListeningPeer> {
    let peer!: ListeningPeer;
    const server = createServer((socket) => acceptPeer(socket, SECRET, () => {
      const decoder = new KvFrameDecoder('request', frameBytesMax);
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) peer.received(frame.bytes.length, decodePeerMessage(frame).message);
        if (decoder.error !== null) peer.received(0, { kind: 'refuse', view: -1, reason: 'gap', lastSeq: -1 });
      });
    }, () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peer = new ListeningPeer(server, (server.address() as { port: number }).port);
    return peer;
  }

  private received(bytes: number, message: PeerMessage): void {
    this.frames.push({ bytes, message });
    if (this.waiting?.done() === true) this.waiting.resolve();
  }

  /** Resolves once `done()` holds, checked as frames arrive (bounded). */
  async until(done: () => boolean, what: string): Promise<void> {
    if (done()) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => { this.waiting = { done, resolve }; }),
      new Promise<never>((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not arrive within ${ARRIVAL_WAIT_MS} ms (${this.frames.length} frames)`)), ARRIVAL_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function put(seq: number, valueBytes: number): KvLogRecord {
  return { seq, view: 2, op: 'PUT', row: `row-${seq}`, column: 'c', value: Buffer.alloc(valueBytes, seq % 251), clientId: '0102030405060708', requestId: seq };
}

/** What a REPLICATE frame carried: seqs and whole record bytes; other messages as they are. */
function seqsOf(message: PeerMessage): number[] {
  return message.kind === 'replicate' ? message.records.map((r) => r.record.seq) : [];
}

describe('kvserver: records to a peer leave in REPLICATE frames of many records (real sockets)', () => {
  let peer: ListeningPeer;
  let links: PeerLinks;

  afterEach(async () => {
    links?.close();
    await peer?.close();
  });

  it('sends the records of one turn as one frame, in order, before a message sent after them, and a new view in a frame of its own', async () => {
    const valueBytesMax = 1024 * 1024;
    peer = await ListeningPeer.start(kvFrameBytesMax(valueBytesMax));
    links = new PeerLinks(0, [{ id: 1, host: '127.0.0.1', port: peer.port }], valueBytesMax, createLogger('test'), SECRET);
    const records = Array.from({ length: 20 }, (_v, i) => put(100 + i, 100));
    for (const record of records.slice(0, 10)) links.sendRecord(1, 2, { record, encoded: encodeLogRecord(record) });
    links.send(1, { kind: 'probe', view: 2, lastSeq: 109, lastSeqView: 2 });
    for (const record of records.slice(10, 15)) links.sendRecord(1, 2, { record, encoded: encodeLogRecord(record) });
    for (const record of records.slice(15)) links.sendRecord(1, 3, { record, encoded: encodeLogRecord(record) });
    await peer.until(() => peer.frames.length >= 4, 'four frames');
    expect(peer.frames.map((f) => [f.message.kind, f.message.view, seqsOf(f.message)])).to.deep.equal([
      ['replicate', 2, records.slice(0, 10).map((r) => r.seq)],
      ['probe', 2, []],
      ['replicate', 2, records.slice(10, 15).map((r) => r.seq)],
      ['replicate', 3, records.slice(15).map((r) => r.seq)],
    ]);
    const first = peer.frames[0]!.message;
    expect(first.kind === 'replicate' && first.records.map((r) => Buffer.concat(r.encoded)))
      .to.deep.equal(records.slice(0, 10).map((r) => Buffer.concat(encodeLogRecord(r))));
  });

  it('keeps every frame within the peer\'s limit: long records split the turn into several frames', async () => {
    const valueBytesMax = 64 * 1024;
    const frameBytesMax = kvFrameBytesMax(valueBytesMax);
    peer = await ListeningPeer.start(frameBytesMax);
    links = new PeerLinks(0, [{ id: 1, host: '127.0.0.1', port: peer.port }], valueBytesMax, createLogger('test'), SECRET);
    // Values of every size up to the limit, 40 of them (about 1.3 MiB): far past one frame.
    const records = Array.from({ length: 40 }, (_v, i) => put(1 + i, i === 0 ? valueBytesMax : (i * 1637) % valueBytesMax));
    for (const record of records) links.sendRecord(1, 2, { record, encoded: encodeLogRecord(record) });
    await peer.until(() => peer.frames.some((f) => f.bytes === 0) || peer.frames.flatMap((f) => seqsOf(f.message)).length >= records.length,
      'every record');
    expect(peer.frames.every((f) => f.message.kind === 'replicate' && f.bytes > 0 && f.bytes <= frameBytesMax),
      `frame sizes ${peer.frames.map((f) => f.bytes).join(', ')}`).to.equal(true);
    expect(peer.frames.flatMap((f) => seqsOf(f.message))).to.deep.equal(records.map((r) => r.seq));
    expect(peer.frames.length).to.be.greaterThan(1);
  });
});
