import { expect } from 'chai';
import { CoordinatorCore, type CoordinatorEffect, type GroupView, type NodeReport } from '../../lib/coordinator/coordinator-core.js';

const FAILURE_MS = 1_000;
const MEMBERS = [[0, 1, 2]];
const TABLETS = [{ start: '', group: 0 }];

function report(nodeId: number, phase: NodeReport['phase'], incarnation = `i${nodeId}`): NodeReport {
  return { nodeId, incarnation, phase, lastSeq: 0, lastSeqView: 0 };
}

function announced(effects: CoordinatorEffect[]): GroupView[] {
  return effects.flatMap((e) => (e.kind === 'announce' ? [e.view] : []));
}

/** Node 0 primary, 1 and 2 joined, then the coordinator restarted from what it saved. */
function restartedWithWholeView(): { core: CoordinatorCore; now: number } {
  const first = new CoordinatorCore(MEMBERS, { tablets: TABLETS }, FAILURE_MS, 0);
  const now = FAILURE_MS;
  for (const id of [0, 1, 2]) first.heartbeat(report(id, 'standby'), now);
  for (const id of [1, 2]) first.join(0, first.views()[0]!.view, 0, id, now);
  expect(first.views()[0]).to.deep.equal({ group: 0, view: 3, primary: 0, secondaries: [1, 2] });
  // The state goes through JSON on its way to disk and back.
  const saved = JSON.parse(JSON.stringify(first.persisted())) as ReturnType<CoordinatorCore['persisted']>;
  return { core: new CoordinatorCore(MEMBERS, saved, FAILURE_MS, now + 10), now: now + 10 };
}

describe('coordinator: a restarted coordinator forgot which incarnation of each member entered the view', () => {
  it('still shows the members of the view as PRIMARY and SECONDARY after its restart', () => {
    const { core, now } = restartedWithWholeView();
    for (const id of [0, 1, 2]) core.heartbeat(report(id, 'serving'), now + 1);
    expect(core.nodeSummaries(now + 1).map((n) => n.state)).to.deep.equal(['PRIMARY', 'SECONDARY', 'SECONDARY']);
  });

  it('drops a member that restarted while it was down at its first heartbeat, even during its grace', () => {
    const { core, now } = restartedWithWholeView();
    core.heartbeat(report(0, 'serving'), now + 1);
    const effects = core.heartbeat(report(2, 'standby', 'second-life'), now + 2);
    expect(announced(effects)).to.deep.equal([{ group: 0, view: 4, primary: 0, secondaries: [1] }]);
    expect(core.nodeSummaries(now + 2)[2]!.state).to.equal('RECOVERING');
  });

  it('reads a state file written before incarnations were kept (nobody is dropped for them)', () => {
    const { core, now } = restartedWithWholeView();
    const old = core.persisted();
    delete old.viewIncarnations;
    const restarted = new CoordinatorCore(MEMBERS, old, FAILURE_MS, now);
    expect(announced(restarted.heartbeat(report(1, 'serving', 'unknown-before'), now + 1))).to.deep.equal([]);
    expect(restarted.views()[0]).to.deep.equal({ group: 0, view: 3, primary: 0, secondaries: [1, 2] });
  });
});
