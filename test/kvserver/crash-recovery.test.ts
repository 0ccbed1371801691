import { expect } from 'chai';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { decodeWalRecords, encodeWalRecord } from '../../lib/kvserver/wal-record.js';
import { WAL_MAGIC } from '../../lib/kvserver/wal-segments.js';
import {
  cleanup, clientFor, makeCluster, startNode, startNodeExpectingRefusal, track, valueFor, waitUntil, withTimeout,
  type NodeProcess, type TestCluster,
} from './node-process.js';

const WRITERS = 8;
/** Writes acknowledged before the node is killed. */
const ACKED_BEFORE_KILL = 400;
const STREAM_WAIT_MS = 60_000;

function sizeFor(key: string): number {
  return 100 + (valueFor(key, 2).readUInt16BE(0) % 20_000);
}

/**
 * Writes `tail` where the log's next write would have gone: right after the records of the
 * segment (the file may go on with zeros laid down ahead of them).
 */
function writeAfterRecords(file: string, tail: Buffer): void {
  const firstSeq = Number(/wal-(\d+)\.log$/.exec(file)![1]);
  const bytes = readFileSync(file);
  const end = WAL_MAGIC.length + decodeWalRecords(bytes, WAL_MAGIC.length, 64 * 1024 * 1024, firstSeq).goodBytes;
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, tail, 0, tail.length, end);
  } finally {
    closeSync(fd);
  }
}

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).filter((f) => pattern.test(f)).sort();
}

async function writeKeys(kv: KvClient, prefix: string, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_v, i) => `${prefix}-${i}`);
  await Promise.all(keys.map((k) => kv.put(k, 'v', valueFor(k, sizeFor(k)))));
  return keys;
}

async function expectKeys(kv: KvClient, keys: string[]): Promise<void> {
  for (const k of keys) {
    const got = await kv.get(k, 'v');
    expect(got, `key ${k}`).to.not.equal(null);
    expect(got!.equals(valueFor(k, sizeFor(k))), `key ${k} holds its exact value`).to.equal(true);
  }
}

describe('durability across crashes', function () {
  let cluster: TestCluster;
  let dir: string;

  beforeEach(async () => {
    // A small checkpoint threshold so checkpoints and log truncation happen during the tests;
    // values from 4 KiB on (about four in five here) are kept in the log once logged.
    cluster = track(await makeCluster({ kv: { checkpointLogBytes: 512 * 1024, logValueBytesMin: 4096 } }));
    dir = join(cluster.dataDir, 'kv-0');
  });
  afterEach(cleanup);

  it('kill -9 during a stream of concurrent writes: every acknowledged write survives whole', async () => {
    const node = await startNode(cluster, 0);
    const kv = clientFor(cluster);
    const acked = new Set<string>();
    const attempted = new Set<string>();
    let killed = false;
    let reachedTarget: () => void = () => undefined;
    const target = new Promise<void>((res) => { reachedTarget = res; });
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !killed; i++) {
        const key = `w${w}-${i}`;
        const overwrite = i % 5 === 4 ? `w${w}-${i - 1}` : null; // also overwrite earlier keys
        attempted.add(key);
        try {
          await kv.put(key, 'v', valueFor(key, sizeFor(key)));
          if (overwrite !== null) await kv.delete(overwrite, 'v');
        } catch {
          return; // the node is gone
        }
        acked.add(key);
        if (overwrite !== null) acked.delete(overwrite);
        if (acked.size >= ACKED_BEFORE_KILL) reachedTarget();
      }
    };
    const writers = Array.from({ length: WRITERS }, (_v, w) => writer(w));
    await withTimeout(target, STREAM_WAIT_MS, 'writes did not reach the target');
    killed = true;
    await node.crash();
    await Promise.all(writers);
    kv.close();

    await startNode(cluster, 0);
    const again = clientFor(cluster);
    await expectKeys(again, [...acked]);
    for (const key of attempted) {
      if (acked.has(key)) continue;
      const got = await again.get(key, 'v');
      // Never acknowledged (or deleted): absent, or whole; never a partial value.
      if (got !== null) expect(got.equals(valueFor(key, sizeFor(key))), `unacked ${key} is whole`).to.equal(true);
    }
    const more = await writeKeys(again, 'after', 50);
    await expectKeys(again, more);
  });

  const tails: [string, (lastSeq: number) => Buffer][] = [
    ['half a record', (lastSeq) => {
      const parts = encodeWalRecord({ seq: lastSeq + 1, view: 0, op: 'PUT', row: 'torn', column: 'v', value: Buffer.alloc(5000, 1), clientId: '0000000000000000', requestId: 1 });
      const whole = Buffer.concat(parts);
      return whole.subarray(0, whole.length >> 1);
    }],
    ['garbage bytes', () => Buffer.from('x'.repeat(300))],
    ['a record with a bad checksum', (lastSeq) => {
      const whole = Buffer.concat(encodeWalRecord({ seq: lastSeq + 1, view: 0, op: 'PUT', row: 'torn', column: 'v', value: Buffer.from('zzz'), clientId: '0000000000000000', requestId: 1 }));
      whole[whole.length - 1] ^= 0xff;
      return whole;
    }],
  ];
  for (const [name, tail] of tails) {
    it(`a torn log tail (${name}) is dropped; the data before it and later writes survive`, async () => {
      // No checkpoint round here: the tail must be the tail of the records just written.
      cluster = track(await makeCluster());
      dir = join(cluster.dataDir, 'kv-0');
      let node: NodeProcess = await startNode(cluster, 0);
      let kv = clientFor(cluster);
      const keys = await writeKeys(kv, 'before', 60);
      const lastSeq = (await kv.status()).log.lastSeq;
      await node.crash();
      const segment = files(dir, /^wal-\d+\.log$/).at(-1)!;
      writeAfterRecords(join(dir, segment), tail(lastSeq));
      node = await startNode(cluster, 0);
      kv = clientFor(cluster);
      await expectKeys(kv, keys);
      expect(await kv.get('torn', 'v')).to.equal(null);
      const later = await writeKeys(kv, 'later', 20);
      expect(await node.stop()).to.equal(0);
      await startNode(cluster, 0);
      kv = clientFor(cluster);
      await expectKeys(kv, [...keys, ...later]);
    });
  }

  it('a crash in the middle of a checkpoint or a split (a truncated temp file, an orphan half) loses nothing', async () => {
    let node = await startNode(cluster, 0);
    let kv = clientFor(cluster);
    const keys = await writeKeys(kv, 'ck', 150); // ~1.5 MB
    // Written again: the log outgrows what a checkpoint round would write, so rounds run.
    await writeKeys(kv, 'ck', 150);
    await waitUntil(async () => (await kv.status()).lastCheckpoint !== null, STREAM_WAIT_MS, 'no checkpoint happened');
    await node.crash();
    const checkpoint = files(dir, /^tablet-\d+\.ckpt$/)[0]!;
    const bytes = readFileSync(join(dir, checkpoint));
    writeFileSync(join(dir, `${checkpoint}.tmp`), bytes.subarray(0, bytes.length >> 1));
    // And the first half of a split that never reached the manifest.
    writeFileSync(join(dir, 'tablet-999.ckpt'), bytes);
    node = await startNode(cluster, 0);
    expect(existsSync(join(dir, `${checkpoint}.tmp`))).to.equal(false);
    expect(existsSync(join(dir, 'tablet-999.ckpt'))).to.equal(false);
    kv = clientFor(cluster);
    await expectKeys(kv, keys);
  });

  it('a corrupt checkpoint stops the node at start with a message naming the file', async () => {
    const node = await startNode(cluster, 0);
    const kv = clientFor(cluster);
    await writeKeys(kv, 'cc', 150);
    await writeKeys(kv, 'cc', 150); // the log outgrows what a checkpoint round would write
    await waitUntil(async () => (await kv.status()).lastCheckpoint !== null, STREAM_WAIT_MS, 'no checkpoint happened');
    expect(await node.stop()).to.equal(0);
    const checkpoint = files(dir, /^tablet-\d+\.ckpt$/)[0]!;
    const path = join(dir, checkpoint);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] ^= 0x20;
    writeFileSync(path, bytes);
    const refused = await startNodeExpectingRefusal(cluster, 0);
    expect(refused.code).to.not.equal(0);
    expect(refused.stdout).to.not.include('READY');
    expect(refused.stderr).to.include(path);
    expect(refused.stderr).to.match(/checksum/);
  });
});
