import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { KvClient } from '../../lib/kvclient/kv-client.js';
import type { ManifestSnapshot } from '../../lib/kvserver/manifest.js';
import type { KvRequestBody } from '../../lib/protocol/kv-wire.js';
import { setLogLevel } from '../../lib/protocol/log.js';
import { allRows } from '../support/kv-rows.js';
import { freePort, startRole, stopRole, type RoleProcess } from '../support/roles.js';
import { valueFor, waitUntil } from './node-process.js';
import { GROUP_WAIT_MS, ReplicaGroup, endGroupTest } from './replica-group.js';
import { WriteLoad, writeRows } from './write-load.js';

/** Acknowledged writes to collect between two steps of a scenario. */
const WRITES_PER_PHASE = 40;
/** Longest wait for one STATUS reply or one request of these tests. */
const REQUEST_WAIT_MS = 20_000;
/** The smallest log a checkpoint round starts at (the configuration's minimum). */
const TINY_CHECKPOINT_LOG_BYTES = 4096;

/** Every node process the current test started, killed ones included (for their logs). */
let started: Array<{ id: number; role: RoleProcess }> = [];

/** A group whose configuration `patch` changed before any node starts. */
async function groupWith(patch: (conf: Record<string, any>) => void = () => undefined): Promise<ReplicaGroup> {
  const group = await ReplicaGroup.create('primary', patch);
  const startNode = group.startNode.bind(group);
  group.startNode = async (id: number): Promise<void> => {
    await startNode(id);
    started.push({ id, role: group.nodes.get(id)! });
  };
  return group;
}

function nodeDir(group: ReplicaGroup, id: number): string {
  return join(group.dataDir, `kv-${id}`);
}

/** The snapshot point a node's manifest records (undefined: it never installed a snapshot). */
function installedSnapshot(group: ReplicaGroup, id: number): ManifestSnapshot | undefined {
  const text = readFileSync(join(nodeDir(group, id), 'manifest.json'), 'utf8');
  return (JSON.parse(text) as { body: { snapshot?: ManifestSnapshot } }).body.snapshot;
}

function digest(value: Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Everything node `id` holds (row -> digest of column c), read back with the node started
 * alone on its data (a configuration whose only group is itself); the node is stopped after.
 */
async function readSolo(group: ReplicaGroup, id: number): Promise<Map<string, string>> {
  const conf = JSON.parse(readFileSync(group.conf, 'utf8')) as Record<string, any>;
  const kv = { ...conf.kv, nodes: [{ id, host: '127.0.0.1', port: await freePort() }], groups: [[id]], tablets: [{ start: '', group: 0 }] };
  const file = join(group.dataDir, '..', `solo-${id}.json`);
  writeFileSync(file, JSON.stringify({ ...conf, kv }));
  const role = await startRole(['kvnode', '--id', String(id), '--conf', file, '--data', group.dataDir]);
  const reader = new KvClient({ cluster: kv, valueBytesMax: kv.valueBytesMax, requestTimeoutMs: REQUEST_WAIT_MS, secret: group.secret });
  try {
    const out = new Map<string, string>();
    for (const row of await allRows(reader)) {
      const value = await reader.get(row, 'c');
      out.set(row, value === null ? 'absent' : digest(value));
    }
    return out;
  } finally {
    reader.close();
    await stopRole(role);
  }
}

/**
 * Stops every node of the group, then checks that each holds exactly the same rows and
 * values, and among them every write in `expected` (row -> value).
 */
async function expectReplicasEqual(group: ReplicaGroup, expected: Map<string, Buffer>): Promise<void> {
  for (const id of [0, 1, 2]) await group.kill(id);
  const copies: Map<string, string>[] = [];
  for (const id of [0, 1, 2]) copies.push(await readSolo(group, id));
  for (const [row, value] of expected) expect(copies[0]!.get(row), `node 0: ${row}`).to.equal(digest(value));
  expect(copies[1], 'node 1 holds what node 0 holds').to.deep.equal(copies[0]);
  expect(copies[2], 'node 2 holds what node 0 holds').to.deep.equal(copies[0]);
}

function ackedValues(load: WriteLoad, extra: Map<string, Buffer> = new Map()): Map<string, Buffer> {
  const out = new Map(extra);
  for (const [row, value] of load.acked) out.set(row, Buffer.from(value));
  return out;
}

/** The primary's log starts after `seq`: a node holding only up to `seq` cannot catch up by log. */
async function waitLogDroppedPast(group: ReplicaGroup, primary: number, seq: number): Promise<void> {
  let firstSeq = 0;
  await waitUntil(async () => {
    firstSeq = (await group.nodeStatus(primary)).log.firstSeq;
    return firstSeq > seq + 1;
  }, GROUP_WAIT_MS, `the primary's log still starts at ${firstSeq}, not past ${seq + 1}`);
}

describe('kvserver: a node catches up by snapshot (real processes, kill -9)', function () {
  this.timeout(300_000);
  let group: ReplicaGroup | undefined;

  before(() => setLogLevel('silent'));
  afterEach(function () {
    if (this.currentTest?.state === 'failed' || process.env.PENNCLOUD_TEST_DUMP !== undefined) {
      // What the nodes said is the first thing to read when a scenario fails.
      for (const { id, role } of started) process.stderr.write(`--- node ${id} stderr (tail) ---\n${role.stderr().slice(-8000)}\n`);
    }
    started = [];
    WriteLoad.abandonAll();
    endGroupTest(group);
    group = undefined;
  });

  it('a deposed primary holding writes nobody else has rejoins as a secondary with exactly the primary\'s data', async () => {
    group = await groupWith();
    const first = await group.startAll();
    const old = first.primary;
    const [a, b] = first.secondaries as [number, number];
    const client = group.client();
    const load = new WriteLoad(client, 'd');
    await load.more(WRITES_PER_PHASE, 'before the kills');

    // A client that knows the primary (the coordinator told it) before the coordinator goes.
    const stranded = group.client();
    await stranded.put('warm', 'c', 'w');
    // With the coordinator away nobody leaves the view, so all three members stay the holders
    // of every acknowledged write, while the primary goes on sequencing writes alone.
    await group.stopCoordinator();
    await Promise.all([group.kill(a), group.kill(b)]);
    const before = await group.nodeStatus(old);
    // Writes the old primary sequences and logs with no secondary alive to receive them.
    const strandedWrites = Array.from({ length: 5 }, (_v, i) => stranded.put(`stranded-${i}`, 'c', `s${i}`).catch(() => undefined));
    await waitUntil(async () => (await group!.nodeStatus(old)).log.durableSeq >= before.log.lastSeq + 5, GROUP_WAIT_MS, 'the old primary logged no stranded write');
    await group.kill(old);
    // Back, the coordinator finds every member gone; the two that come back first hold less
    // than the old primary, and one of them becomes primary.
    await group.startCoordinator();
    await waitUntil(async () => (await group!.view()).primary === null, GROUP_WAIT_MS, 'the coordinator did not see the whole group gone');
    await Promise.all([group.startNode(a), group.startNode(b)]);
    const second = await group.waitForView(1);
    expect(second.primary).to.not.equal(old);
    await load.more(WRITES_PER_PHASE, 'after the failover');

    expect(installedSnapshot(group, old), 'before its restart').to.equal(undefined);
    await group.startNode(old);
    const third = await group.waitForView(2);
    expect(third.secondaries).to.include(old);
    expect(installedSnapshot(group, old), 'the old primary took a snapshot').to.not.equal(undefined);
    await load.more(WRITES_PER_PHASE, 'after the rejoin');
    await load.stop();
    await Promise.all(strandedWrites);
    // Committed in the current view after every write above: every member holds all of them.
    await client.put('final', 'c', 'f');
    await expectReplicasEqual(group, ackedValues(load, new Map([['final', Buffer.from('f')]])));
  });

  it('a node down past the primary\'s retained log catches up by snapshot while writes go on, and a failover onto it loses nothing', async () => {
    group = await groupWith((c) => {
      c.kv.checkpointLogBytes = TINY_CHECKPOINT_LOG_BYTES;
      // Two tablets in the group: the snapshot carries both ('w-...' rows go to the second).
      c.kv.tablets = [{ start: '', group: 0 }, { start: 'm', group: 0 }];
    });
    const first = await group.startAll();
    const [lagging, other] = first.secondaries as [number, number];
    const client = group.client();
    await writeRows(client, 'early', 20, 1024);
    await group.kill(lagging);
    await group.waitForView(1);

    // A CPUT the lagging node never saw, whose log record the primary drops below: only the
    // snapshot's origins table can tell the lagging node that it was applied.
    const clientId = randomBytes(8);
    const cput: KvRequestBody = { op: 'CPUT', row: 'counter', column: 'c', expected: { kind: 'absent' }, value: Buffer.from('1') };
    expect((await group.request(first.primary, cput, clientId, 77)).status).to.equal('OK');
    expect(await client.cput('counter', 'c', '1', '2')).to.deep.equal({ ok: true });
    const missedFrom = (await group.nodeStatus(first.primary)).log.lastSeq - 2;
    await writeRows(client, 'missed', 200, 2048);
    // Past the primary's window of recent records too (32 MiB): only a snapshot can help. Each
    // row is written twice, so that the log outgrows what a checkpoint round writes and is dropped.
    await writeRows(client, 'bulk', 40, 1024 * 1024);
    await writeRows(client, 'bulk', 40, 1024 * 1024);
    await waitLogDroppedPast(group, first.primary, missedFrom);

    const load = new WriteLoad(client, 'w');
    await load.more(WRITES_PER_PHASE / 2, 'before the restart');
    await group.startNode(lagging);
    const joined = await group.waitForView(2);
    expect(joined.secondaries).to.include(lagging);
    expect(installedSnapshot(group, lagging), 'the lagging node took a snapshot').to.not.equal(undefined);
    expect((await group.nodeStatus(lagging)).tablets.map((t) => t.start)).to.deep.equal(['', 'm']);
    await load.more(WRITES_PER_PHASE, 'after the rejoin');

    // Only the node that caught up by snapshot is left.
    await group.kill(other);
    await group.waitForView(1);
    await group.kill(first.primary);
    const last = await group.waitForView(0);
    expect(last.primary).to.equal(lagging);
    await load.more(WRITES_PER_PHASE, 'on the node alone');
    await load.stop();

    for (let i = 0; i < 20; i++) expect((await client.get(`early-${i}`, 'c'))?.equals(valueFor(`early-${i}`, 1024)), `early-${i}`).to.equal(true);
    for (let i = 0; i < 200; i++) expect((await client.get(`missed-${i}`, 'c'))?.equals(valueFor(`missed-${i}`, 2048)), `missed-${i}`).to.equal(true);
    for (const [key, value] of load.acked) expect((await client.get(key, 'c'))?.toString(), key).to.equal(value);
    // The retried CPUT is recognised, not applied again over the later value.
    expect((await group.request(lagging, cput, clientId, 77)).status).to.equal('OK');
    expect((await client.get('counter', 'c'))?.toString()).to.equal('2');
  });

  it('a node killed while a large snapshot streams to it recovers its old state, then catches up and rejoins', async () => {
    group = await groupWith((c) => {
      c.kv.checkpointLogBytes = TINY_CHECKPOINT_LOG_BYTES;
    });
    const first = await group.startAll();
    const lagging = first.secondaries[0]!;
    const client = group.client();
    await group.kill(lagging);
    await group.waitForView(1);
    const missedFrom = (await group.nodeStatus(first.primary)).log.lastSeq;
    // 40 MiB: past the primary's window of recent records (32 MiB), and a stream that takes
    // long enough to be caught in the middle.
    const bigRows = 80;
    const bigBytes = 512 * 1024;
    await writeRows(client, 'big', bigRows, bigBytes);
    await writeRows(client, 'big', bigRows, bigBytes); // the log outgrows a round: it is dropped
    await waitLogDroppedPast(group, first.primary, missedFrom);

    const load = new WriteLoad(client, 'w');
    await load.more(WRITES_PER_PHASE / 2, 'before the restart');
    await group.startNode(lagging);
    // Killed once a tenth of the snapshot is written, well before its end.
    const dir = nodeDir(group, lagging);
    const stagedBytes = (): number => readdirSync(dir).filter((name) => /^snapshot-.*\.tmp$/.test(name))
      .reduce((sum, name) => sum + (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0), 0);
    await waitUntil(async () => stagedBytes() >= (bigRows * bigBytes) / 10, GROUP_WAIT_MS, 'no snapshot streamed in');
    await group.kill(lagging);
    expect(installedSnapshot(group, lagging), 'killed before the install switched').to.equal(undefined);

    await group.startNode(lagging);
    const joined = await group.waitForView(2);
    expect(joined.secondaries).to.include(lagging);
    expect(installedSnapshot(group, lagging), 'the second snapshot was installed').to.not.equal(undefined);
    await load.more(WRITES_PER_PHASE, 'after the rejoin');
    await load.stop();
    await client.put('final', 'c', 'f');
    const expected = ackedValues(load, new Map([['final', Buffer.from('f')]]));
    for (let i = 0; i < bigRows; i++) expected.set(`big-${i}`, valueFor(`big-${i}`, bigBytes));
    await expectReplicasEqual(group, expected);
  });
});
