import { expect } from 'chai';
import { CoordinatorCore, type CoordinatorEffect, type GroupView, type NodeReport } from '../../lib/coordinator/coordinator-core.js';

const FAILURE_MS = 1_000;
const MEMBERS = [[0, 1, 2], [3, 4, 5]];
const TABLETS = [{ start: '', group: 0 }, { start: 'm', group: 1 }];

function report(nodeId: number, phase: NodeReport['phase'], lastSeq = 0, incarnation = `i${nodeId}`): NodeReport {
  return { nodeId, incarnation, phase, lastSeq, lastSeqView: 0 };
}

function announced(effects: CoordinatorEffect[]): GroupView[] {
  return effects.flatMap((e) => (e.kind === 'announce' ? [e.view] : []));
}

/** A group-0 cluster past the start-up grace with node `primary` serving and the others joined. */
function formedGroup(primary = 0): { core: CoordinatorCore; now: number } {
  const core = new CoordinatorCore(MEMBERS, { tablets: TABLETS }, FAILURE_MS, 0);
  let now = FAILURE_MS;
  core.heartbeat(report(primary, 'standby'), now);
  const others = [0, 1, 2].filter((id) => id !== primary);
  for (const id of others) core.heartbeat(report(id, 'standby'), now);
  const view = core.views()[0]!;
  expect(view.primary).to.equal(primary);
  for (const id of others) core.join(0, core.views()[0]!.view, primary, id, now);
  now += 10;
  return { core, now };
}

describe('coordinator: views, failover and joins (deterministic core)', () => {
  it('after a pause of its own it listens a full failure timeout before judging anyone silent', () => {
    const { core, now } = formedGroup(0);
    const before = core.views()[0]!;
    expect(before.secondaries).to.deep.equal([1, 2]);
    // Stopped for ten failure timeouts: every node looks silent, though only the coordinator was.
    const resumed = now + 10 * FAILURE_MS;
    core.resumedAfterPause(resumed);
    expect(announced(core.tick(resumed))).to.deep.equal([]);
    for (const id of [0, 1]) core.heartbeat(report(id, 'serving'), resumed + 5);
    expect(announced(core.tick(resumed + FAILURE_MS - 1))).to.deep.equal([]);
    expect(core.views()[0]).to.deep.equal(before);
    // Past the grace, the one node that stayed silent is judged as usual.
    for (const id of [0, 1]) core.heartbeat(report(id, 'serving'), resumed + FAILURE_MS - 2);
    expect(announced(core.tick(resumed + FAILURE_MS + 10))).to.deep.equal([{ group: 0, view: before.view + 1, primary: 0, secondaries: [1] }]);
  });

  it('forms no view during the start-up grace, then makes the first ready node primary', () => {
    const core = new CoordinatorCore(MEMBERS, { tablets: TABLETS }, FAILURE_MS, 0);
    expect(announced(core.heartbeat(report(1, 'standby'), 10))).to.deep.equal([]);
    const effects = core.heartbeat(report(1, 'standby'), FAILURE_MS);
    expect(effects[0]!.kind).to.equal('persist');
    expect(announced(effects)).to.deep.equal([{ group: 0, view: 1, primary: 1, secondaries: [] }]);
  });

  it('adds a caught-up node as a secondary only when the current primary asks', () => {
    const core = new CoordinatorCore(MEMBERS, { tablets: TABLETS }, FAILURE_MS, 0);
    core.heartbeat(report(0, 'standby'), 1_000);
    core.heartbeat(report(2, 'standby'), 1_000);
    expect(core.views()[0]).to.deep.equal({ group: 0, view: 1, primary: 0, secondaries: [] });
    expect(core.join(0, 1, 2, 2, 1_001), 'a non-primary cannot add members').to.deep.equal([]);
    expect(core.join(0, 7, 0, 2, 1_001), 'a stale view cannot add members').to.deep.equal([]);
    expect(announced(core.join(0, 1, 0, 2, 1_001))).to.deep.equal([{ group: 0, view: 2, primary: 0, secondaries: [2] }]);
    expect(core.nodeSummaries(1_001).slice(0, 3).map((n) => n.state)).to.deep.equal(['PRIMARY', 'DOWN', 'SECONDARY']);
  });

  it('replaces a silent primary with the live secondary that applied the most', () => {
    const { core, now } = formedGroup(0);
    core.heartbeat(report(1, 'serving', 40), now + 500);
    core.heartbeat(report(2, 'serving', 42), now + 500);
    // Node 0 was last heard at FAILURE_MS (when the group formed).
    expect(announced(core.tick(FAILURE_MS + FAILURE_MS - 1))).to.deep.equal([]);
    const effects = core.tick(FAILURE_MS + FAILURE_MS);
    expect(announced(effects)).to.deep.equal([{ group: 0, view: 4, primary: 2, secondaries: [1] }]);
    expect(effects.findIndex((e) => e.kind === 'persist')).to.be.lessThan(effects.findIndex((e) => e.kind === 'announce'));
  });

  it('drops a silent secondary from the view so writes stop waiting for it', () => {
    const { core, now } = formedGroup(0);
    core.heartbeat(report(0, 'serving'), now + 900);
    core.heartbeat(report(2, 'serving'), now + 900);
    expect(announced(core.tick(now + FAILURE_MS))).to.deep.equal([{ group: 0, view: 4, primary: 0, secondaries: [2] }]);
  });

  it('treats a restarted node (new incarnation) as gone at once, even during grace', () => {
    const { core, now } = formedGroup(0);
    const effects = core.heartbeat(report(1, 'recovering', 0, 'second-life'), now);
    expect(announced(effects)).to.deep.equal([{ group: 0, view: 4, primary: 0, secondaries: [2] }]);
    expect(core.nodeSummaries(now).find((n) => n.id === 1)!.state).to.equal('STARTING');
    core.heartbeat(report(1, 'standby', 0, 'second-life'), now + 1);
    expect(core.nodeSummaries(now + 1).find((n) => n.id === 1)!.state).to.equal('RECOVERING');
  });

  it('when the whole view is gone, only a node of that view may become primary', () => {
    const { core, now } = formedGroup(0);
    core.heartbeat(report(0, 'serving', 10), now);
    core.join(0, 3, 0, 2, now); // no-op: already a member
    // Node 1 leaves (restart); the view is {0, 2}; then 0 and 2 both die.
    core.heartbeat(report(1, 'recovering', 5, 'again'), now);
    expect(core.views()[0]).to.deep.equal({ group: 0, view: 4, primary: 0, secondaries: [2] });
    const later = now + 5_000;
    core.heartbeat(report(1, 'standby', 5, 'again'), later);
    expect(core.views()[0]!.primary, 'node 1 lacks writes acknowledged without it').to.equal(null);
    core.heartbeat(report(2, 'standby', 10, 'back'), later + 1);
    expect(core.views()[0]).to.deep.equal({ group: 0, view: 6, primary: 2, secondaries: [] });
  });

  it('disable deposes at once and enable lets the node back; both survive a restart', () => {
    const { core, now } = formedGroup(0);
    const effects = core.disable(0, now);
    expect(effects[0]).to.deep.equal({ kind: 'disable', nodeId: 0 });
    expect(announced(effects)).to.deep.equal([{ group: 0, view: 4, primary: 1, secondaries: [2] }]);
    expect(core.heartbeat(report(0, 'standby'), now + 1).some((e) => e.kind === 'disable')).to.equal(true);
    expect(core.nodeSummaries(now + 1)[0]!.state).to.equal('DISABLED');

    const restarted = new CoordinatorCore(MEMBERS, core.persisted(), FAILURE_MS, now + 2);
    expect(restarted.views()[0]).to.deep.equal({ group: 0, view: 4, primary: 1, secondaries: [2] });
    expect(restarted.nodeSummaries(now + 2)[0]!.state).to.equal('DISABLED');
    expect(restarted.enable(0, now + 3)[0]).to.deep.equal({ kind: 'enable', nodeId: 0 });
    restarted.heartbeat(report(0, 'standby', 0, 'fresh'), now + 4);
    expect(restarted.nodeSummaries(now + 4)[0]!.state).to.equal('RECOVERING');
  });

  it('after its own restart, deposes no one until a failure timeout has passed', () => {
    const { core, now } = formedGroup(0);
    const restarted = new CoordinatorCore(MEMBERS, core.persisted(), FAILURE_MS, now);
    expect(announced(restarted.tick(now + FAILURE_MS - 1))).to.deep.equal([]);
    restarted.heartbeat(report(1, 'serving'), now + 100);
    restarted.heartbeat(report(2, 'serving'), now + 100);
    // Node 0 never speaks again: it is replaced, but only once the grace is over.
    expect(announced(restarted.tick(now + FAILURE_MS + 1))).to.have.length(1);
    expect(restarted.views()[0]!.primary).to.be.oneOf([1, 2]);
  });

  it('registers splits in the tablet map, idempotently', () => {
    const core = new CoordinatorCore(MEMBERS, { tablets: TABLETS }, FAILURE_MS, 0);
    expect(core.tabletFor('hello').group).to.equal(0);
    expect(core.registerSplit(0, 'f')).to.have.length(1);
    expect(core.registerSplit(0, 'f')).to.deep.equal([]);
    expect(core.tabletMap()).to.deep.equal([{ start: '', group: 0 }, { start: 'f', group: 0 }, { start: 'm', group: 1 }]);
    expect(core.tabletFor('hello').start).to.equal('f');
    expect(() => core.registerSplit(1, 'g')).to.throw(/owned by 0/);
  });
});
