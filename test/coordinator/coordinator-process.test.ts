import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, clusterSecretOf, killAllRoles, runPenncloud, startRole, stopRole, tempDir, writeTestConfig } from '../support/roles.js';
import { JsonLinePeer } from '../support/json-line-client.js';

interface View { group: number; view: number; primary: number | null; secondaries: number[] }

function beat(nodeId: number, phase: string, lastSeq = 0, incarnation = `n${nodeId}`): Record<string, unknown> {
  return { type: 'heartbeat', report: { nodeId, incarnation, phase, lastSeq, lastSeqView: 0 } };
}

/** Heartbeats `ids` until the view satisfies `test` (bounded by the peer's wait). */
async function beatUntil(peer: JsonLinePeer, ids: number[], test: (v: View) => boolean, phase = 'standby'): Promise<View> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    let view: View | undefined;
    for (const id of ids) view = (await peer.request(beat(id, phase))).view as View;
    if (test(view!)) return view!;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the view never reached the expected state');
}

describe('coordinator: the control protocol over TCP (real process)', () => {
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  async function start(dir: string): Promise<{ conf: string; port: number; data: string }> {
    const conf = await writeTestConfig(dir, {
      patch: (c) => { c.coordinator = { ...c.coordinator, heartbeatIntervalMs: 50, failureTimeoutMs: 400 }; },
    });
    const port = (JSON.parse(readFileSync(conf, 'utf8')) as { coordinator: { port: number } }).coordinator.port;
    return { conf, port, data: join(dir, 'data') };
  }

  it('forms a view, adds joiners, fails over, and remembers it all across its own restart', async () => {
    const dir = tempDir();
    const { conf, port, data } = await start(dir);
    let coordinator = await startRole(['coordinator', '--conf', conf, '--data', data]);
    let peer = await JsonLinePeer.connect(port, clusterSecretOf(data));
    const first = await beatUntil(peer, [0, 1, 2], (v) => v.primary !== null);
    expect(first.primary).to.equal(0);
    for (const id of [1, 2]) {
      const view = (await peer.request(beat(0, 'serving'))).view as View;
      expect(await peer.request({ type: 'join', group: 0, view: view.view, primary: 0, nodeId: id })).to.include({ type: 'ok' });
    }
    const full = (await peer.request(beat(0, 'serving'))).view as View;
    expect(full).to.deep.include({ primary: 0, secondaries: [1, 2] });

    // Node 0 falls silent; 2 has applied the most writes, so it becomes primary.
    const deadline = Date.now() + 15_000;
    let current = full;
    while (current.primary === 0 && Date.now() < deadline) {
      await peer.request({ type: 'heartbeat', report: { nodeId: 1, incarnation: 'n1', phase: 'serving', lastSeq: 40, lastSeqView: 1 } });
      current = (await peer.request({ type: 'heartbeat', report: { nodeId: 2, incarnation: 'n2', phase: 'serving', lastSeq: 42, lastSeqView: 1 } })).view as View;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(current).to.deep.include({ primary: 2, secondaries: [1] });
    const pushed = await peer.waitFor((m) => m.id === undefined && m.type === 'view' && (m.view as View).primary === 2, 'the pushed view');
    expect(pushed.view).to.deep.equal(current);
    const afterFailover = (await peer.request({ type: 'map' })).map as { views: View[]; tablets: unknown[]; nodes: unknown[] };
    expect(afterFailover.views[0]).to.deep.equal(current);
    expect(afterFailover.nodes).to.have.length(3);

    peer.close();
    expect(await stopRole(coordinator, 'SIGKILL')).to.equal('SIGKILL');
    coordinator = await startRole(['coordinator', '--conf', conf, '--data', data]);
    peer = await JsonLinePeer.connect(port, clusterSecretOf(data));
    const remembered = (await peer.request({ type: 'map' })).map as { views: View[] };
    expect(remembered.views[0]).to.deep.equal(afterFailover.views[0]);
    peer.close();
    await stopRole(coordinator);
  });

  it('lists node states and applies admin disable and enable', async () => {
    const dir = tempDir();
    const { conf, port, data } = await start(dir);
    await startRole(['coordinator', '--conf', conf, '--data', data]);
    const peer = await JsonLinePeer.connect(port, clusterSecretOf(data));
    await beatUntil(peer, [0, 1], (v) => v.primary === 0);
    expect(await peer.request({ type: 'disable', nodeId: 0 })).to.include({ type: 'ok' });
    await peer.waitFor((m) => m.type === 'disable', 'the disable push');
    const states = (await peer.request({ type: 'nodes' })).nodes as Array<{ id: number; state: string }>;
    expect(states.map((s) => s.state)[0]).to.equal('DISABLED');
    expect(((await peer.request(beat(0, 'standby'))) as { disabled: boolean }).disabled).to.equal(true);
    expect(await peer.request({ type: 'enable', nodeId: 0 })).to.include({ type: 'ok' });
    expect(((await peer.request(beat(0, 'standby', 0, 'n0-again'))) as { disabled: boolean }).disabled).to.equal(false);
    peer.close();
  });

  it('refuses to start on a corrupt state file, naming it', async () => {
    const dir = tempDir();
    const { conf, port, data } = await start(dir);
    const coordinator = await startRole(['coordinator', '--conf', conf, '--data', data]);
    const peer = await JsonLinePeer.connect(port, clusterSecretOf(data));
    await peer.request({ type: 'map' });
    peer.close();
    await stopRole(coordinator);
    const file = join(data, 'coordinator', 'state.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"view": 0', '"view": 9'));
    const result = await runPenncloud(['coordinator', '--conf', conf, '--data', data]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain(file).and.contain('checksum mismatch');
  });

  it('closes a connection that sends garbage, and keeps serving others', async () => {
    const dir = tempDir();
    const { conf, port, data } = await start(dir);
    await startRole(['coordinator', '--conf', conf, '--data', data]);
    const bad = await JsonLinePeer.connect(port, clusterSecretOf(data));
    const good = await JsonLinePeer.connect(port, clusterSecretOf(data));
    (bad as unknown as { socket: { write(s: string): void } }).socket.write('this is not json\n');
    expect((await good.request({ type: 'map' })).type).to.equal('map');
    bad.close();
    good.close();
  });
});
