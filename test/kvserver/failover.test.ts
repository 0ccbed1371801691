import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { setLogLevel } from '../../lib/protocol/log.js';
import type { KvClient } from '../../lib/kvclient/kv-client.js';
import { NodeConnection } from '../../lib/kvclient/node-connection.js';
import { waitUntil } from './node-process.js';
import { FAILURE_TIMEOUT_MS, GROUP_WAIT_MS, ReplicaGroup, endGroupTest } from './replica-group.js';
import { WriteLoad } from './write-load.js';

/** Acknowledged writes to collect before, and again after, each kill. */
const WRITES_PER_PHASE = 40;

async function expectAllReadable(client: KvClient, acked: Map<string, string>): Promise<void> {
  for (const [key, value] of acked) {
    const got = await client.get(key, 'c');
    expect(got?.toString(), key).to.equal(value);
  }
}

describe('kvserver: a replica group fails over (real processes, kill -9)', function () {
  this.timeout(180_000);
  let group: ReplicaGroup;

  before(() => setLogLevel('silent'));
  afterEach(() => {
    WriteLoad.abandonAll();
    endGroupTest(group);
  });

  it('keeps taking writes after the primary dies, loses no acknowledged write, and serves with one node left', async () => {
    group = await ReplicaGroup.create();
    const first = await group.startAll();
    const client = group.client();

    const load = new WriteLoad(client, 'k');
    await waitUntil(async () => load.acked.size >= WRITES_PER_PHASE, GROUP_WAIT_MS, 'no writes before the kill');
    await group.kill(first.primary);
    const afterFirstKill = load.acked.size;
    await waitUntil(async () => load.acked.size >= afterFirstKill + WRITES_PER_PHASE, GROUP_WAIT_MS, 'writes did not resume after the primary died');
    const second = await group.waitForView(1);
    expect(second.primary).to.not.equal(first.primary);

    // Down to one node: the group still serves reads and writes.
    await group.kill(second.primary);
    const afterSecondKill = load.acked.size;
    await waitUntil(async () => load.acked.size >= afterSecondKill + WRITES_PER_PHASE, GROUP_WAIT_MS, 'writes did not resume with one node left');
    await load.stop();
    const last = await group.waitForView(0);
    expect([first.primary, second.primary]).to.not.include(last.primary);

    // Every acknowledged write, including those acknowledged by the dead primaries, is there.
    await expectAllReadable(client, load.acked);
  });

  it('a call stuck on a paused primary moves on to the new primary', async () => {
    group = await ReplicaGroup.create();
    const first = await group.startAll();
    const client = group.client();
    await client.put('before-pause', 'c', 'x');
    const paused = group.nodes.get(first.primary)!.child;
    paused.kill('SIGSTOP');
    try {
      // The first attempt goes to the paused node and gets no answer; after the attempt
      // timeout the client asks the map again and finds the primary of the next view.
      await client.put('during-pause', 'c', 'written while the old primary was paused');
      const now = await group.view();
      expect(now.primary).to.be.a('number').and.not.equal(first.primary);
      expect((await client.get('during-pause', 'c'))?.toString()).to.equal('written while the old primary was paused');
      expect((await client.get('before-pause', 'c'))?.toString()).to.equal('x');
    } finally {
      paused.kill('SIGCONT');
    }
  });

  it('with kv.readFrom "any", secondaries of the view serve reads and the client spreads its reads over them', async () => {
    group = await ReplicaGroup.create('any');
    const view = await group.startAll();
    const client = group.client({ readFrom: 'any' });
    for (let i = 0; i < 20; i++) await client.put(`any-${i}`, 'c', `value ${i}`);
    // Each secondary, asked directly, answers from what it applied (an acknowledged write is
    // on every member of the view).
    for (const id of view.secondaries) {
      const node = group.kv.nodes.find((n) => n.id === id)!;
      const direct = group.client({ pinnedNode: { host: node.host, port: node.port } });
      expect((await direct.get('any-7', 'c'))?.toString(), `node ${id}`).to.equal('value 7');
    }
    for (let i = 0; i < 20; i++) expect((await client.get(`any-${i}`, 'c'))?.toString()).to.equal(`value ${i}`);
    expect(client.clusterMap().secondaries?.[0]).to.have.members(view.secondaries);
    // Writes still go to the primary only.
    const secondary = group.kv.nodes.find((n) => n.id === view.secondaries[0])!;
    const pinned = group.client({ pinnedNode: { host: secondary.host, port: secondary.port } });
    const refused = await pinned.put('any-x', 'c', 'nope').then(() => 'written', (err: Error) => err.message);
    expect(refused).to.match(/not the primary/);
  });

  it('applies a retried CPUT once: the new primary remembers the request from the log', async () => {
    group = await ReplicaGroup.create();
    const first = await group.startAll();
    // One client identity and one request id, sent twice: to the primary, and after its death
    // to the new one, as a client retrying across the failover does.
    const clientId = randomBytes(8);
    const cput = { op: 'CPUT' as const, row: 'counter', column: 'c', expected: { kind: 'absent' as const }, value: Buffer.from('1') };
    const send = async (nodeId: number): Promise<string> => {
      const address = group.kv.nodes.find((n) => n.id === nodeId)!;
      const connection = new NodeConnection(address, clientId, 1024 * 1024, 5_000, { inFlight: 0 }, group.secret);
      try {
        return (await connection.request(cput, 77, 20_000)).status;
      } finally {
        connection.close();
      }
    };
    expect(await send(first.primary)).to.equal('OK');
    await group.kill(first.primary);
    const second = await group.waitForView(1);
    // Meanwhile another client moved the cell on: applying the retry again would now mismatch.
    const other = group.client();
    expect(await other.cput('counter', 'c', '1', '2')).to.deep.equal({ ok: true });
    expect(await send(second.primary)).to.equal('OK');
    expect((await other.get('counter', 'c'))?.toString()).to.equal('2');
  });

  it('a restarted secondary catches up by log shipping, rejoins, and then holds everything alone', async () => {
    group = await ReplicaGroup.create();
    const first = await group.startAll();
    const client = group.client();
    const acked = new Map<string, string>();
    const write = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        await client.put(`c-${i}`, 'c', `v${i}`);
        acked.set(`c-${i}`, `v${i}`);
      }
    };
    await write(0, 30);
    const [lagging, other] = first.secondaries as [number, number];
    await group.kill(lagging);
    await group.waitForView(1);
    await write(30, 60); // the killed node misses these
    await group.startNode(lagging);
    await group.waitForView(2); // it caught up and the primary had it join
    await write(60, 70);
    // Only the node that came back is left: it must hold every write, missed ones included.
    await group.kill(other);
    await group.waitForView(1);
    await group.kill(first.primary);
    const last = await group.waitForView(0);
    expect(last.primary).to.equal(lagging);
    await expectAllReadable(client, acked);
  });

  it('keeps reading and writing while the coordinator is down (past the lease), and after it returns', async () => {
    group = await ReplicaGroup.create();
    await group.startAll();
    const client = group.client();
    await client.put('before', 'c', 'b');
    await group.stopCoordinator();
    // Well past the primary's lease (three quarters of a failure timeout): every read is now
    // confirmed by the secondaries instead.
    const downSinceMs = Date.now();
    let i = 0;
    while (Date.now() - downSinceMs < 3 * FAILURE_TIMEOUT_MS || i < 20) {
      await client.put(`down-${i}`, 'c', `v${i}`);
      expect((await client.get(`down-${i}`, 'c'))?.toString()).to.equal(`v${i}`);
      i++;
    }
    expect((await client.get('before', 'c'))?.toString()).to.equal('b');
    await group.startCoordinator();
    await client.put('after', 'c', 'a');
    expect((await client.get('after', 'c'))?.toString()).to.equal('a');
  });

  it('every acknowledged write survives a restart of the whole group', async () => {
    group = await ReplicaGroup.create();
    await group.startAll();
    const client = group.client();
    const load = new WriteLoad(client, 'r');
    await waitUntil(async () => load.acked.size >= WRITES_PER_PHASE, GROUP_WAIT_MS, 'no writes');
    for (const id of [0, 1, 2]) await group.kill(id);
    // The writers keep retrying through the outage and the restart.
    await Promise.all([0, 1, 2].map((id) => group.startNode(id)));
    const beforeRestartAcks = load.acked.size;
    await waitUntil(async () => load.acked.size >= beforeRestartAcks + WRITES_PER_PHASE, GROUP_WAIT_MS, 'no writes after the restart');
    await load.stop();
    await expectAllReadable(client, load.acked);
  });
});
