import { expect } from 'chai';
import { ReplicaCore, type ReplicaEffect, type ReplicationMessage } from '../../lib/kvserver/replica-core.js';

type R = string;
const LEASE_MS = 800;

function entry(seq: number, view: number, record = `w${seq}`): { seq: number; view: number; record: R } {
  return { seq, view, record };
}

function sends(effects: ReplicaEffect<R>[]): Array<{ to: number; message: ReplicationMessage<R> }> {
  return effects.flatMap((e) => (e.kind === 'send' ? [{ to: e.to, message: e.message }] : []));
}

function commits(effects: ReplicaEffect<R>[]): number[] {
  return effects.flatMap((e) => (e.kind === 'commit' ? [e.seq] : []));
}

/** A primary (node 0) of view 1 with secondaries 1 and 2 that have answered its probe. */
function primaryWithSecondaries(): ReplicaCore<R> {
  const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
  const probes = sends(p.step({ kind: 'view', view: { group: 0, view: 1, primary: 0, secondaries: [1, 2] } }));
  expect(probes.map((s) => [s.to, s.message.kind])).to.deep.equal([[1, 'probe'], [2, 'probe']]);
  for (const id of [1, 2]) p.step({ kind: 'message', from: id, message: { kind: 'ack', view: 1, seq: 0, seqView: 0 } });
  return p;
}

describe('kvserver: the replication state machine', () => {
  it('commits a write only when it is durable locally and acked by every secondary', () => {
    const p = primaryWithSecondaries();
    const out = p.step({ kind: 'sequenced', entry: entry(1, 1) });
    expect(sends(out).map((s) => s.to)).to.deep.equal([1, 2]);
    expect(commits(p.step({ kind: 'durable', seq: 1 }))).to.deep.equal([]);
    expect(commits(p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 1, seq: 1, seqView: 1 } }))).to.deep.equal([]);
    expect(commits(p.step({ kind: 'message', from: 2, message: { kind: 'ack', view: 1, seq: 1, seqView: 1 } }))).to.deep.equal([1]);
  });

  it('stops waiting for a secondary the coordinator removed from the view', () => {
    const p = primaryWithSecondaries();
    p.step({ kind: 'sequenced', entry: entry(1, 1) });
    p.step({ kind: 'durable', seq: 1 });
    p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 1, seq: 1, seqView: 1 } });
    const out = p.step({ kind: 'view', view: { group: 0, view: 2, primary: 0, secondaries: [1] } });
    expect(commits(out)).to.deep.equal([1]);
  });

  it('a lone primary commits on its own fsync', () => {
    const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
    p.step({ kind: 'view', view: { group: 0, view: 1, primary: 0, secondaries: [] } });
    p.step({ kind: 'sequenced', entry: entry(1, 1) });
    expect(commits(p.step({ kind: 'durable', seq: 1 }))).to.deep.equal([1]);
  });

  it('a secondary applies in order, acks once durable, and reports gaps', () => {
    const s = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
    s.step({ kind: 'view', view: { group: 0, view: 1, primary: 0, secondaries: [1] } });
    expect(s.step({ kind: 'message', from: 0, message: { kind: 'replicate', view: 1, entry: entry(1, 1) } })).to.deep.equal([{ kind: 'append', entry: entry(1, 1) }]);
    expect(sends(s.step({ kind: 'durable', seq: 1 }))).to.deep.equal([{ to: 0, message: { kind: 'ack', view: 1, seq: 1, seqView: 1 } }]);
    const gap = sends(s.step({ kind: 'message', from: 0, message: { kind: 'replicate', view: 1, entry: entry(3, 1) } }));
    expect(gap).to.deep.equal([{ to: 0, message: { kind: 'refuse', view: 1, reason: 'gap', lastSeq: 1 } }]);
  });

  it('a secondary refuses a deposed primary, so it can never complete a write', () => {
    const s = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
    s.step({ kind: 'view', view: { group: 0, view: 3, primary: 2, secondaries: [1] } });
    const out = s.step({ kind: 'message', from: 0, message: { kind: 'replicate', view: 2, entry: entry(1, 2) } });
    expect(out).to.deep.equal([{ kind: 'send', to: 0, message: { kind: 'refuse', view: 3, reason: 'stale-view', lastSeq: 0 } }]);
    const old = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
    old.step({ kind: 'view', view: { group: 0, view: 2, primary: 0, secondaries: [1] } });
    old.step({ kind: 'message', from: 1, message: { kind: 'refuse', view: 3, reason: 'stale-view', lastSeq: 0 } });
    expect(old.canAcceptWrites()).to.equal(false);
  });

  it('a secondary holding writes the new primary lacks must resync', () => {
    const s = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 7, lastSeqView: 2 });
    s.step({ kind: 'view', view: { group: 0, view: 2, primary: 0, secondaries: [1] } });
    const out = s.step({ kind: 'message', from: 2, message: { kind: 'probe', view: 3, lastSeq: 6, lastSeqView: 2 } });
    expect(out[0]).to.deep.equal({ kind: 'resync' });
    const same = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 6, lastSeqView: 2 });
    const ok = sends(same.step({ kind: 'message', from: 2, message: { kind: 'probe', view: 3, lastSeq: 9, lastSeqView: 3 } }));
    expect(ok).to.deep.equal([{ to: 2, message: { kind: 'ack', view: 3, seq: 6, seqView: 2 } }]);
  });

  it('a new primary resends to each secondary what it lacks, starting from its answer', () => {
    const p = new ReplicaCore<R>(2, LEASE_MS, { lastSeq: 9, lastSeqView: 3 });
    p.step({ kind: 'view', view: { group: 0, view: 4, primary: 2, secondaries: [1] } });
    const out = p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 4, seq: 6, seqView: 2 } });
    expect(out[0]).to.deep.equal({ kind: 'resend-from', to: 1, afterSeq: 6, afterSeqView: 2 });
    expect(commits(p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 4, seq: 9, seqView: 3 } }))).to.deep.equal([9]);
  });

  it('a learner catches up, then counts for commits from its join request on', () => {
    const p = primaryWithSecondaries();
    p.step({ kind: 'view', view: { group: 0, view: 2, primary: 0, secondaries: [1] } });
    p.step({ kind: 'sequenced', entry: entry(1, 2) });
    p.step({ kind: 'durable', seq: 1 });
    p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 2, seq: 1, seqView: 2 } });
    expect(p.step({ kind: 'learner', nodeId: 2, ackedSeq: 0, ackedSeqView: 0 })).to.deep.equal([{ kind: 'resend-from', to: 2, afterSeq: 0, afterSeqView: 0 }]);
    expect(p.step({ kind: 'peer-prefix-ok', nodeId: 2 }), 'behind: nothing to join yet').to.deep.equal([]);
    const joined = p.step({ kind: 'message', from: 2, message: { kind: 'ack', view: 2, seq: 1, seqView: 2 } });
    expect(joined).to.deep.include({ kind: 'request-join', nodeId: 2, view: 2 });
    p.step({ kind: 'sequenced', entry: entry(2, 2) });
    p.step({ kind: 'durable', seq: 2 });
    expect(commits(p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 2, seq: 2, seqView: 2 } })), 'the learner has not acked').to.deep.equal([]);
    expect(commits(p.step({ kind: 'message', from: 2, message: { kind: 'ack', view: 2, seq: 2, seqView: 2 } }))).to.deep.equal([2]);
  });

  it('a new primary serves reads only once what it held at promotion is committed', () => {
    const p = new ReplicaCore<R>(2, LEASE_MS, { lastSeq: 9, lastSeqView: 3 });
    p.step({ kind: 'view', view: { group: 0, view: 4, primary: 2, secondaries: [1] } });
    p.step({ kind: 'coordinator-heard', sentAtMs: 0 });
    p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 4, seq: 6, seqView: 2 } });
    expect(p.canServeReads(1)).to.equal(false);
    p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 4, seq: 9, seqView: 3 } });
    expect(p.canServeReads(1)).to.equal(true);
  });

  it('serves reads only while the coordinator lease holds', () => {
    const p = primaryWithSecondaries();
    expect(p.canServeReads(0)).to.equal(false);
    p.step({ kind: 'coordinator-heard', sentAtMs: 1_000 });
    expect(p.canServeReads(1_000 + LEASE_MS - 1)).to.equal(true);
    expect(p.canServeReads(1_000 + LEASE_MS)).to.equal(false);
  });

  it('a learner that already holds what the primary holds is asked to join at once', () => {
    const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 4, lastSeqView: 2 });
    p.step({ kind: 'view', view: { group: 0, view: 3, primary: 0, secondaries: [] } });
    expect(p.step({ kind: 'learner', nodeId: 1, ackedSeq: 4, ackedSeqView: 2 })).to.deep.equal([{ kind: 'request-join', nodeId: 1, view: 3 }]);
    expect(p.step({ kind: 'learner', nodeId: 1, ackedSeq: 4, ackedSeqView: 2 }), 'asked twice: one join').to.deep.equal([]);
    // Same seq, another view: not the same record, a write this primary never had.
    expect(p.step({ kind: 'learner', nodeId: 2, ackedSeq: 4, ackedSeqView: 1 })).to.deep.equal([{ kind: 'snapshot', to: 2 }]);
  });

  it('when commits stall, probes the silent and resends to the lagging, and nothing else', () => {
    const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
    p.step({ kind: 'view', view: { group: 0, view: 1, primary: 0, secondaries: [1, 2] } });
    p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 1, seq: 0, seqView: 0 } });
    p.step({ kind: 'sequenced', entry: entry(1, 1) });
    p.step({ kind: 'durable', seq: 1 });
    expect(p.lagging).to.equal(true);
    expect(p.retransmit()).to.deep.equal([
      { kind: 'resend-from', to: 1, afterSeq: 0, afterSeqView: -1 },
      { kind: 'send', to: 2, message: { kind: 'probe', view: 1, lastSeq: 1, lastSeqView: 1 } },
    ]);
    p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 1, seq: 1, seqView: 1 } });
    p.step({ kind: 'message', from: 2, message: { kind: 'ack', view: 1, seq: 1, seqView: 1 } });
    expect(p.lagging).to.equal(false);
    expect(p.retransmit()).to.deep.equal([]);
  });

  it('a learner found diverged gets no more records and can never be joined', () => {
    const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 4, lastSeqView: 2 });
    p.step({ kind: 'view', view: { group: 0, view: 3, primary: 0, secondaries: [] } });
    expect(p.step({ kind: 'learner', nodeId: 1, ackedSeq: 3, ackedSeqView: 1 })).to.deep.equal([{ kind: 'resend-from', to: 1, afterSeq: 3, afterSeqView: 1 }]);
    expect(sends(p.step({ kind: 'sequenced', entry: entry(5, 3) })), 'no record before the check').to.deep.equal([]);
    expect(p.step({ kind: 'peer-diverged', nodeId: 1 })).to.deep.equal([{ kind: 'snapshot', to: 1 }]);
    expect(sends(p.step({ kind: 'sequenced', entry: entry(6, 3) }))).to.deep.equal([]);
    expect(p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 3, seq: 5, seqView: 3 } })).to.deep.equal([]);
  });

  it('a learner given a snapshot gets records again once it asks from the snapshot point, then joins', () => {
    const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 9, lastSeqView: 3 });
    p.step({ kind: 'view', view: { group: 0, view: 3, primary: 0, secondaries: [] } });
    p.step({ kind: 'learner', nodeId: 1, ackedSeq: 4, ackedSeqView: 1 });
    // The shell found its log diverged and sends it a snapshot as of seq 9: no records meanwhile.
    expect(p.step({ kind: 'peer-diverged', nodeId: 1 })).to.deep.equal([{ kind: 'snapshot', to: 1 }]);
    expect(sends(p.step({ kind: 'sequenced', entry: entry(10, 3) }))).to.deep.equal([]);
    p.step({ kind: 'durable', seq: 10 });
    // Installed, it asks from the snapshot point; the resend starts there.
    expect(p.step({ kind: 'learner', nodeId: 1, ackedSeq: 9, ackedSeqView: 3 })).to.deep.equal([{ kind: 'resend-from', to: 1, afterSeq: 9, afterSeqView: 3 }]);
    p.step({ kind: 'peer-prefix-ok', nodeId: 1 });
    expect(p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 3, seq: 10, seqView: 3 } })).to.deep.include({ kind: 'request-join', nodeId: 1, view: 3 });
  });

  it('after installing a snapshot, a node holds exactly the snapshot point and takes the next record', () => {
    const s = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 12, lastSeqView: 2 });
    s.step({ kind: 'view', view: { group: 0, view: 4, primary: 0, secondaries: [2] } });
    s.step({ kind: 'snapshot-installed', seq: 30, seqView: 4 });
    expect([s.lastSeq, s.lastSeqView, s.durableSeq]).to.deep.equal([30, 4, 30]);
    expect(sends(s.step({ kind: 'message', from: 0, message: { kind: 'replicate', view: 4, entry: entry(32, 4) } }))[0]!.message)
      .to.deep.equal({ kind: 'refuse', view: 4, reason: 'gap', lastSeq: 30 });
    expect(s.step({ kind: 'message', from: 0, message: { kind: 'replicate', view: 4, entry: entry(31, 4) } })).to.deep.equal([{ kind: 'append', entry: entry(31, 4) }]);
    const primary = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
    primary.step({ kind: 'view', view: { group: 0, view: 1, primary: 0, secondaries: [] } });
    expect(() => primary.step({ kind: 'snapshot-installed', seq: 5, seqView: 1 })).to.throw(/primary/);
  });

  it('a probe with a nonce is answered by an ack echoing it (read confirmation)', () => {
    const p = primaryWithSecondaries();
    expect(p.probeSecondaries(7)).to.deep.equal([1, 2].map((to) => ({ kind: 'send', to, message: { kind: 'probe', view: 1, lastSeq: 0, lastSeqView: 0, nonce: 7 } })));
    const s = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
    s.step({ kind: 'view', view: { group: 0, view: 1, primary: 0, secondaries: [1] } });
    expect(sends(s.step({ kind: 'message', from: 0, message: { kind: 'probe', view: 1, lastSeq: 0, lastSeqView: 0, nonce: 7 } })))
      .to.deep.equal([{ to: 0, message: { kind: 'ack', view: 1, seq: 0, seqView: 0, nonce: 7 } }]);
    // A secondary that moved to a newer view refuses instead: no confirmation.
    s.step({ kind: 'view', view: { group: 0, view: 2, primary: 1, secondaries: [] } });
    expect(sends(s.step({ kind: 'message', from: 0, message: { kind: 'probe', view: 1, lastSeq: 0, lastSeqView: 0, nonce: 8 } }))[0]!.message.kind).to.equal('refuse');
  });

  it('retransmits to a learner only once it counts for commits (a dead learner costs nothing)', () => {
    const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 0, lastSeqView: 0 });
    p.step({ kind: 'view', view: { group: 0, view: 1, primary: 0, secondaries: [] } });
    p.step({ kind: 'sequenced', entry: entry(1, 1) });
    p.step({ kind: 'durable', seq: 1 });
    p.step({ kind: 'learner', nodeId: 2, ackedSeq: 0, ackedSeqView: 0 });
    expect(p.lagging).to.equal(false);
    expect(p.retransmit()).to.deep.equal([]);
  });

  it('a deposed primary whose log is longer than the new primary\'s gets a snapshot, never a join', () => {
    // Node 1, primary of view 8, holds seq 10 (view 8); node 0, primary of view 7, had gone on
    // to seq 15 on its own before it was deposed.
    const p = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 10, lastSeqView: 8 });
    p.step({ kind: 'view', view: { group: 0, view: 8, primary: 1, secondaries: [2] } });
    p.step({ kind: 'durable', seq: 10 });
    p.step({ kind: 'message', from: 2, message: { kind: 'ack', view: 8, seq: 10, seqView: 8 } });
    expect(p.step({ kind: 'learner', nodeId: 0, ackedSeq: 15, ackedSeqView: 7 })).to.deep.equal([{ kind: 'snapshot', to: 0 }]);
    expect(p.step({ kind: 'message', from: 0, message: { kind: 'ack', view: 8, seq: 15, seqView: 7 } }), 'its ack joins nothing').to.deep.equal([]);
    expect(sends(p.step({ kind: 'sequenced', entry: entry(11, 8) })).map((s) => s.to), 'no records for it').to.deep.equal([2]);
    // Another record at the primary's last seq is a diverged log too.
    const q = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 10, lastSeqView: 8 });
    q.step({ kind: 'view', view: { group: 0, view: 8, primary: 1, secondaries: [] } });
    q.step({ kind: 'durable', seq: 10 });
    expect(q.step({ kind: 'learner', nodeId: 0, ackedSeq: 10, ackedSeqView: 7 })).to.deep.equal([{ kind: 'snapshot', to: 0 }]);
  });

  it('a learner joins only once its log was found a prefix of the primary\'s, and one that acks past the primary gets a snapshot', () => {
    const p = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 10, lastSeqView: 8 });
    p.step({ kind: 'view', view: { group: 0, view: 8, primary: 1, secondaries: [] } });
    p.step({ kind: 'durable', seq: 10 });
    expect(p.step({ kind: 'learner', nodeId: 0, ackedSeq: 6, ackedSeqView: 7 })).to.deep.equal([{ kind: 'resend-from', to: 0, afterSeq: 6, afterSeqView: 7 }]);
    // An ack of the primary's last seq and view before the check passed joins nothing.
    expect(p.step({ kind: 'message', from: 0, message: { kind: 'ack', view: 8, seq: 10, seqView: 8 } })).to.deep.equal([]);
    // A gap it reports is not filled before the check either (that resend compares no views).
    expect(p.step({ kind: 'message', from: 0, message: { kind: 'refuse', view: 8, reason: 'gap', lastSeq: 6 } })).to.deep.equal([]);
    expect(p.step({ kind: 'peer-prefix-ok', nodeId: 0 })).to.deep.equal([{ kind: 'request-join', nodeId: 0, view: 8 }]);

    const q = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 10, lastSeqView: 8 });
    q.step({ kind: 'view', view: { group: 0, view: 8, primary: 1, secondaries: [] } });
    q.step({ kind: 'learner', nodeId: 0, ackedSeq: 6, ackedSeqView: 7 });
    q.step({ kind: 'peer-prefix-ok', nodeId: 0 });
    expect(q.step({ kind: 'message', from: 0, message: { kind: 'ack', view: 8, seq: 12, seqView: 7 } })).to.deep.equal([{ kind: 'snapshot', to: 0 }]);
    expect(q.step({ kind: 'message', from: 0, message: { kind: 'ack', view: 8, seq: 10, seqView: 8 } })).to.deep.equal([]);
  });

  it('a secondary that cannot be caught up by log is told to leave the view, and does', () => {
    const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 40, lastSeqView: 5 });
    p.step({ kind: 'view', view: { group: 0, view: 5, primary: 0, secondaries: [1, 2] } });
    expect(p.step({ kind: 'peer-diverged', nodeId: 1 })).to.deep.equal([{ kind: 'send', to: 1, message: { kind: 'refuse', view: 5, reason: 'diverged', lastSeq: 40 } }]);
    const s = new ReplicaCore<R>(1, LEASE_MS, { lastSeq: 3, lastSeqView: 2 });
    s.step({ kind: 'view', view: { group: 0, view: 5, primary: 0, secondaries: [1, 2] } });
    expect(s.step({ kind: 'message', from: 2, message: { kind: 'refuse', view: 5, reason: 'diverged', lastSeq: 40 } }), 'not from its primary').to.deep.equal([]);
    expect(s.step({ kind: 'message', from: 0, message: { kind: 'refuse', view: 4, reason: 'diverged', lastSeq: 40 } }), 'an older view').to.deep.equal([]);
    expect(s.step({ kind: 'message', from: 0, message: { kind: 'refuse', view: 5, reason: 'diverged', lastSeq: 40 } })).to.deep.equal([{ kind: 'resync' }]);
  });

  it('probes a secondary whose ack claims more than the primary holds (it finds out and leaves)', () => {
    const p = new ReplicaCore<R>(0, LEASE_MS, { lastSeq: 10, lastSeqView: 5 });
    p.step({ kind: 'view', view: { group: 0, view: 5, primary: 0, secondaries: [1] } });
    p.step({ kind: 'durable', seq: 10 });
    const out = p.step({ kind: 'message', from: 1, message: { kind: 'ack', view: 5, seq: 12, seqView: 4 } });
    expect(out).to.deep.equal([{ kind: 'send', to: 1, message: { kind: 'probe', view: 5, lastSeq: 10, lastSeqView: 5 } }]);
    expect(p.commitSeq, 'its ack counts for nothing').to.equal(0);
  });
});
