/**
 * The replication protocol of one node, as a deterministic state machine: views from the
 * coordinator, records sequenced by the local store, replication messages and acks from peers,
 * and the passing of time come in; what to append, send, commit or refuse goes out. The shell
 * (the node process) owns the store, the sockets and the clock.
 *
 * Rules:
 * - The primary of view v sends every record it sequences to every secondary and learner, in
 *   seq order. A record is committed (its client answered, reads may see it) once it is durable
 *   locally and every secondary of the view has acknowledged it. Acks are cumulative: a
 *   secondary applies in order, so acking seq n acks everything before.
 * - A secondary accepts records only from the primary of its current view or a newer one, and
 *   only the next seq; a record from an older view is refused (a deposed primary can never
 *   complete a write), a gap is reported so the primary resends from the log.
 * - A joining node is a learner: it gets every new record and the log it missed, once the shell
 *   found its log a prefix of the primary's; once it has acknowledged everything the primary has
 *   sequenced, the primary asks the coordinator to make it a secondary, and from that moment
 *   counts it for commits (so every member of the new view holds every acknowledged write). A
 *   learner that claims more than the primary holds, or another record at the primary's last
 *   seq, holds writes the primary never had: it gets a snapshot, never a join.
 * - A node the primary cannot catch up by log (its log diverged, or reaches back past what the
 *   primary's log still holds) gets a snapshot (snapshot-sender.ts) and is no learner meanwhile;
 *   once installed, its log restarts at the snapshot point and it asks to catch up from there.
 * - Reads are served by the primary while its lease holds: the coordinator deposes no primary
 *   until a failure timeout after its last heartbeat, so a primary that heard back from the
 *   coordinator within that time (less a margin) is still primary.
 */

export interface ViewInfo {
  group: number;
  view: number;
  primary: number | null;
  secondaries: number[];
}

/** A record as replication carries it: the store's WAL record plus the view that wrote it. */
export interface ReplicatedRecord<R> {
  seq: number;
  view: number;
  record: R;
}

export type ReplicationMessage<R> =
  | { kind: 'replicate'; view: number; entry: ReplicatedRecord<R> }
  /** A new primary asks what a secondary holds; it answers with an ack of its last seq. */
  | { kind: 'probe'; view: number; lastSeq: number; lastSeqView: number; nonce?: number }
  /** `nonce`: present when the ack answers a probe that carried one (read confirmation). */
  | { kind: 'ack'; view: number; seq: number; seqView: number; nonce?: number }
  | { kind: 'refuse'; view: number; reason: 'stale-view' | 'gap' | 'diverged'; lastSeq: number };

export type ReplicaInput<R> =
  | { kind: 'view'; view: ViewInfo }
  | { kind: 'sequenced'; entry: ReplicatedRecord<R> }
  | { kind: 'durable'; seq: number }
  | { kind: 'message'; from: number; message: ReplicationMessage<R> }
  /** A node outside the view asked to catch up; it holds up to `ackedSeq`, written in `ackedSeqView`. */
  | { kind: 'learner'; nodeId: number; ackedSeq: number; ackedSeqView: number }
  | { kind: 'join-refused'; nodeId: number }
  /** The shell found `nodeId`'s log is not a prefix of this primary's: it cannot catch up by log. */
  | { kind: 'peer-diverged'; nodeId: number }
  /** The shell found a learner's log a prefix of this primary's: the resend to it runs. */
  | { kind: 'peer-prefix-ok'; nodeId: number }
  /** A snapshot replaced this node's data: its log now ends at `seq`, written in `seqView`. */
  | { kind: 'snapshot-installed'; seq: number; seqView: number }
  | { kind: 'coordinator-heard'; sentAtMs: number };

export type ReplicaEffect<R> =
  | { kind: 'append'; entry: ReplicatedRecord<R> }
  | { kind: 'send'; to: number; message: ReplicationMessage<R> }
  /** Send `to` every record after `afterSeq` from the log; if the log's record at `afterSeq`
   *  was written in another view than `afterSeqView`, `to` has diverged and must resync. */
  | { kind: 'resend-from'; to: number; afterSeq: number; afterSeqView: number }
  | { kind: 'commit'; seq: number }
  | { kind: 'request-join'; nodeId: number; view: number }
  /** `to` (outside the view) cannot catch up by log (it holds records this primary never had, or
   *  lacks records this primary no longer holds): it gets a snapshot. */
  | { kind: 'snapshot'; to: number }
  | { kind: 'resync' };

/**
 * A learner's progress: its log is being compared with the primary's (`checking`), it gets
 * the records it lacks (`catching-up`), or its join was requested (`joining`: it counts for
 * commits).
 */
type LearnerState = 'checking' | 'catching-up' | 'joining';

export type Role = 'standby' | 'primary' | 'secondary';

export class ReplicaCore<R> {
  role: Role = 'standby';
  view: ViewInfo | null = null;
  /** Highest seq appended locally, and the view of that record. */
  lastSeq: number;
  lastSeqView: number;
  /** Highest seq durable in the local log. */
  durableSeq: number;
  /** Highest seq committed (primary) or known committed (secondary: what it acked). */
  commitSeq: number;
  /** Per secondary or learner: the highest seq it acknowledged; null until it first answers. */
  private readonly acked = new Map<number, number | null>();
  /** Nodes receiving records without being in the view yet. */
  private readonly learners = new Map<number, LearnerState>();
  private leaseUntilMs = 0;
  /** A new primary serves no read until everything it held when promoted is committed. */
  private readBarrierSeq = 0;

  /**
   * @param nodeId this node
   * @param leaseMs how long a coordinator reply keeps reads safe: the failure timeout less a
   *   margin for clock drift
   * @param start where local recovery left the log
   */
  constructor(readonly nodeId: number, private readonly leaseMs: number, start: { lastSeq: number; lastSeqView: number }) {
    this.lastSeq = start.lastSeq;
    this.lastSeqView = start.lastSeqView;
    this.durableSeq = start.lastSeq;
    // Whether the recovered tail was ever acknowledged is unknown: nothing counts as committed
    // until a view's secondaries confirm it.
    this.commitSeq = 0;
  }

  /** Reads are linearizable here now: primary, lease valid. */
  canServeReads(nowMs: number): boolean {
    return this.role === 'primary' && nowMs < this.leaseUntilMs && this.commitSeq >= this.readBarrierSeq;
  }

  /** Primary, and everything it held when promoted is committed (the read barrier). */
  readBarrierPassed(): boolean {
    return this.role === 'primary' && this.commitSeq >= this.readBarrierSeq;
  }

  /** A probe carrying `nonce` to every secondary of the view (read confirmation). */
  probeSecondaries(nonce: number): ReplicaEffect<R>[] {
    if (this.role !== 'primary') return [];
    const message: ReplicationMessage<R> = { kind: 'probe', view: this.view!.view, lastSeq: this.lastSeq, lastSeqView: this.lastSeqView, nonce };
    return this.view!.secondaries.map((to) => ({ kind: 'send' as const, to, message }));
  }

  /** Client writes go to the store now (it will report them `sequenced`). */
  canAcceptWrites(): boolean {
    return this.role === 'primary';
  }

  step(input: ReplicaInput<R>): ReplicaEffect<R>[] {
    switch (input.kind) {
      case 'view': return this.onView(input.view);
      case 'sequenced': return this.onSequenced(input.entry);
      case 'durable': return this.onDurable(input.seq);
      case 'message': return this.onMessage(input.from, input.message);
      case 'learner': return this.onLearner(input.nodeId, input.ackedSeq, input.ackedSeqView);
      case 'join-refused':
        if (this.learners.get(input.nodeId) === 'joining') this.learners.set(input.nodeId, 'catching-up');
        return this.advanceCommit();
      case 'peer-diverged': return this.onPeerDiverged(input.nodeId);
      case 'peer-prefix-ok':
        if (this.learners.get(input.nodeId) !== 'checking') return [];
        this.learners.set(input.nodeId, 'catching-up');
        return this.joinIfCaughtUp(input.nodeId);
      case 'snapshot-installed':
        if (this.role === 'primary') throw new Error('a primary installed a snapshot');
        this.lastSeq = input.seq;
        this.lastSeqView = input.seqView;
        this.durableSeq = input.seq;
        this.commitSeq = Math.min(this.commitSeq, input.seq);
        return [];
      case 'coordinator-heard':
        // Measured from when the heartbeat was sent: the coordinator heard it no earlier.
        this.leaseUntilMs = Math.max(this.leaseUntilMs, input.sentAtMs + this.leaseMs);
        return [];
    }
  }

  private onView(view: ViewInfo): ReplicaEffect<R>[] {
    if (this.view !== null && view.view < this.view.view) return [];
    const wasPrimary = this.role === 'primary';
    this.view = view;
    if (view.primary === this.nodeId) {
      this.role = 'primary';
      if (!wasPrimary) {
        // A new primary starts from what it has: everything it holds is committed in its view
        // once the secondaries ack it; their acks are unknown until they answer.
        this.acked.clear();
        this.learners.clear();
        this.leaseUntilMs = 0;
        this.readBarrierSeq = this.lastSeq;
      }
      for (const id of view.secondaries) {
        if (!this.acked.has(id)) this.acked.set(id, null);
        this.learners.delete(id);
      }
      for (const id of [...this.acked.keys()]) {
        if (!view.secondaries.includes(id) && !this.learners.has(id)) this.acked.delete(id);
      }
      // Ask each secondary what it holds; its ack starts the resend of what it lacks.
      const probe: ReplicationMessage<R> = { kind: 'probe', view: view.view, lastSeq: this.lastSeq, lastSeqView: this.lastSeqView };
      const effects: ReplicaEffect<R>[] = wasPrimary ? [] : view.secondaries.map((to) => ({ kind: 'send' as const, to, message: probe }));
      return [...effects, ...this.advanceCommit()];
    }
    this.role = view.secondaries.includes(this.nodeId) ? 'secondary' : 'standby';
    this.acked.clear();
    this.learners.clear();
    this.leaseUntilMs = 0;
    return [];
  }

  private ackedBy(id: number): number | null {
    return this.acked.get(id) ?? null;
  }

  private onSequenced(entry: ReplicatedRecord<R>): ReplicaEffect<R>[] {
    if (this.role !== 'primary') throw new Error(`sequenced a write while ${this.role}`);
    if (entry.seq !== this.lastSeq + 1) throw new Error(`sequenced seq ${entry.seq} after ${this.lastSeq}`);
    this.lastSeq = entry.seq;
    this.lastSeqView = entry.view;
    const message: ReplicationMessage<R> = { kind: 'replicate', view: this.view!.view, entry };
    // Peers that have not answered the probe get this record in the resend their answer starts,
    // and so do learners whose log is still being compared with this one.
    const effects: ReplicaEffect<R>[] = [];
    for (const [to, seq] of this.acked) {
      if (seq !== null && this.learners.get(to) !== 'checking') effects.push({ kind: 'send', to, message });
    }
    return effects;
  }

  private onDurable(seq: number): ReplicaEffect<R>[] {
    if (seq <= this.durableSeq) return [];
    this.durableSeq = seq;
    if (this.role === 'primary') return this.advanceCommit();
    if (this.view?.primary != null) return [this.ackTo(this.view.primary, this.view.view)];
    return [];
  }

  private onMessage(from: number, message: ReplicationMessage<R>): ReplicaEffect<R>[] {
    switch (message.kind) {
      case 'replicate': return this.onReplicate(from, message.view, message.entry);
      case 'probe': return this.onProbe(from, message.view, message.lastSeq, message.lastSeqView, message.nonce);
      case 'ack': return this.onAck(from, message.view, message.seq, message.seqView);
      case 'refuse': return this.onRefuse(from, message);
    }
  }

  /** The ack of everything durable here, with the view of the last record. */
  private ackTo(primary: number, view: number, nonce?: number): ReplicaEffect<R> {
    const seq = Math.min(this.durableSeq, this.lastSeq);
    this.commitSeq = Math.max(this.commitSeq, seq);
    const message: ReplicationMessage<R> = { kind: 'ack', view, seq, seqView: seq === this.lastSeq ? this.lastSeqView : 0 };
    if (nonce !== undefined) message.nonce = nonce;
    return { kind: 'send', to: primary, message };
  }

  private refuseTo(to: number, view: number, reason: 'stale-view' | 'gap' | 'diverged'): ReplicaEffect<R> {
    return { kind: 'send', to, message: { kind: 'refuse', view: Math.max(this.view?.view ?? 0, view), reason, lastSeq: this.lastSeq } };
  }

  /** Accepts messages from the primary of the current view or a newer one. */
  private acceptPrimary(from: number, view: number): boolean {
    const mine = this.view?.view ?? 0;
    if (view < mine || this.role === 'primary') return false;
    if (view > mine || this.view?.primary !== from) {
      // A newer view that includes this node: the coordinator's announcement is on its way.
      this.view = { group: this.view?.group ?? 0, view, primary: from, secondaries: this.view?.secondaries ?? [] };
    }
    return true;
  }

  private onProbe(from: number, view: number, lastSeq: number, lastSeqView: number, nonce?: number): ReplicaEffect<R>[] {
    if (!this.acceptPrimary(from, view)) return [this.refuseTo(from, view, 'stale-view')];
    // Holding more than the new primary, or something else at its last seq, means writes it
    // never had (never acknowledged): this copy must be rebuilt from the primary's.
    if (this.lastSeq > lastSeq || (this.lastSeq === lastSeq && this.lastSeqView !== lastSeqView)) {
      return [{ kind: 'resync' }, this.refuseTo(from, view, 'diverged')];
    }
    return [this.ackTo(from, view, nonce)];
  }

  private onReplicate(from: number, view: number, entry: ReplicatedRecord<R>): ReplicaEffect<R>[] {
    if (!this.acceptPrimary(from, view)) return [this.refuseTo(from, view, 'stale-view')];
    if (entry.seq <= this.lastSeq) {
      // Already have it (a resend): ack again. A different view tag at that seq cannot be
      // repaired record by record: this node holds writes the primary never had.
      if (entry.seq === this.lastSeq && entry.view !== this.lastSeqView) return [{ kind: 'resync' }, this.refuseTo(from, view, 'diverged')];
      return [this.ackTo(from, view)];
    }
    if (entry.seq !== this.lastSeq + 1) return [this.refuseTo(from, view, 'gap')];
    this.lastSeq = entry.seq;
    this.lastSeqView = entry.view;
    return [{ kind: 'append', entry }];
  }

  private onAck(from: number, view: number, seq: number, seqView: number): ReplicaEffect<R>[] {
    if (this.role !== 'primary' || view !== this.view!.view || !this.acked.has(from)) return [];
    if (this.holdsOther(seq, seqView)) {
      // It holds records this primary never had: its ack says nothing of what it holds of
      // this log. A learner gets a snapshot; a secondary, probed, finds out and leaves the view.
      if (!this.view!.secondaries.includes(from)) return this.diverged(from);
      return [{ kind: 'send', to: from, message: { kind: 'probe', view, lastSeq: this.lastSeq, lastSeqView: this.lastSeqView } }];
    }
    const before = this.ackedBy(from);
    if (before === null) {
      // The first word from a secondary of a new view: send it what it lacks.
      this.acked.set(from, seq);
      return [{ kind: 'resend-from', to: from, afterSeq: seq, afterSeqView: seqView }, ...this.advanceCommit()];
    }
    if (seq > before) this.acked.set(from, seq);
    return [...this.advanceCommit(), ...this.joinIfCaughtUp(from)];
  }

  /**
   * Whether a log ending at `seq` written in `seqView` holds a record this primary never had:
   * it reaches past this primary's last seq, or holds another record at it (a record is named by
   * its seq and the view that wrote it; an ack's view 0 names no record).
   */
  private holdsOther(seq: number, seqView: number): boolean {
    return seq > this.lastSeq || (seq === this.lastSeq && seq > 0 && seqView !== 0 && seqView !== this.lastSeqView);
  }

  /** A learner whose log was found a prefix of this one asks to join once it acked everything. */
  private joinIfCaughtUp(id: number): ReplicaEffect<R>[] {
    if (this.learners.get(id) !== 'catching-up' || (this.ackedBy(id) ?? -1) < this.lastSeq) return [];
    // Caught up with everything sequenced: from now on it counts for commits.
    this.learners.set(id, 'joining');
    return [{ kind: 'request-join', nodeId: id, view: this.view!.view }];
  }

  /** `id`, outside the view, cannot catch up by log: no more records, and a snapshot. */
  private diverged(id: number): ReplicaEffect<R>[] {
    this.learners.delete(id);
    this.acked.delete(id);
    return [{ kind: 'snapshot', to: id }, ...this.advanceCommit()];
  }

  /**
   * The shell found `id` cannot catch up by log (its log is not a prefix of this one, or
   * reaches back past what this primary still holds). A learner stops receiving records (they
   * would go on top of a different log, and it could then be joined) and gets a snapshot. A
   * secondary of the view keeps counting for commits until the coordinator drops it, so it is
   * told to leave the view: it does at once (a new incarnation), then rejoins by snapshot.
   */
  private onPeerDiverged(id: number): ReplicaEffect<R>[] {
    if (this.role !== 'primary' || id === this.nodeId) return [];
    if (this.view!.secondaries.includes(id)) {
      return [{ kind: 'send', to: id, message: { kind: 'refuse', view: this.view!.view, reason: 'diverged', lastSeq: this.lastSeq } }];
    }
    return this.diverged(id);
  }

  private onRefuse(from: number, message: Extract<ReplicationMessage<R>, { kind: 'refuse' }>): ReplicaEffect<R>[] {
    if (this.role === 'secondary' && message.reason === 'diverged' && message.view === this.view!.view && from === this.view!.primary) {
      // The primary cannot catch this copy up by log: it leaves the view, and rejoins by snapshot.
      return [{ kind: 'resync' }];
    }
    if (this.role !== 'primary') return [];
    if (message.reason === 'stale-view' && message.view > this.view!.view) {
      // Someone knows a newer view: stop acting as primary until the coordinator says so.
      this.role = 'standby';
      this.leaseUntilMs = 0;
      return [];
    }
    // A gap is filled only for a peer whose log is known to be a prefix of this one: a member
    // of the view, or a learner past its check (a resend from a gap compares no views).
    if (message.reason === 'gap' && this.acked.has(from) && this.learners.get(from) !== 'checking') {
      return [{ kind: 'resend-from', to: from, afterSeq: message.lastSeq, afterSeqView: -1 }];
    }
    return [];
  }

  /**
   * A node asked to catch up; once the shell found its log a prefix of this one, it gets new
   * records from now on and the log it missed.
   */
  private onLearner(nodeId: number, ackedSeq: number, ackedSeqView: number): ReplicaEffect<R>[] {
    if (this.role !== 'primary' || this.view!.secondaries.includes(nodeId) || nodeId === this.nodeId) return [];
    if (this.learners.get(nodeId) === 'joining') return []; // its join is on its way
    // Holding more than this primary, or another record at its last seq: writes it never had.
    if (this.holdsOther(ackedSeq, ackedSeqView)) return this.diverged(nodeId);
    this.acked.set(nodeId, ackedSeq);
    if (ackedSeq === this.lastSeq && ackedSeqView === this.lastSeqView && this.durableSeq >= this.lastSeq) {
      // Holds exactly what this primary holds: nothing to send, it may join at once.
      this.learners.set(nodeId, 'joining');
      return [{ kind: 'request-join', nodeId, view: this.view!.view }];
    }
    this.learners.set(nodeId, 'checking');
    return [{ kind: 'resend-from', to: nodeId, afterSeq: ackedSeq, afterSeqView: ackedSeqView }];
  }

  /**
   * Messages may be lost with a connection. When commits stall, the shell calls this: every
   * member counted for commits that never answered is probed again, and every one behind gets
   * the log it lacks resent. Duplicates are harmless (a replica acks what it already holds).
   * A learner not yet counted is left to ask again itself (it does at every heartbeat while it
   * hears nothing), so a learner that died costs nothing.
   */
  retransmit(): ReplicaEffect<R>[] {
    if (this.role !== 'primary') return [];
    const effects: ReplicaEffect<R>[] = [];
    const view = this.view!.view;
    for (const [id, seq] of this.acked) {
      if (!this.counts(id)) continue;
      if (seq === null) {
        effects.push({ kind: 'send', to: id, message: { kind: 'probe', view, lastSeq: this.lastSeq, lastSeqView: this.lastSeqView } });
      } else if (seq < this.lastSeq) {
        effects.push({ kind: 'resend-from', to: id, afterSeq: seq, afterSeqView: -1 });
      }
    }
    return effects;
  }

  /** Whether some member counted for commits has not acknowledged everything sequenced. */
  get lagging(): boolean {
    for (const [id, seq] of this.acked) if (this.counts(id) && (seq === null || seq < this.lastSeq)) return true;
    return false;
  }

  /** A secondary of the view, or a learner whose join was requested. */
  private counts(id: number): boolean {
    return this.view!.secondaries.includes(id) || this.learners.get(id) === 'joining';
  }

  /** The commit point: durable here and acked by every secondary and every joining learner. */
  private advanceCommit(): ReplicaEffect<R>[] {
    if (this.role !== 'primary') return [];
    let point = this.durableSeq;
    for (const [id, seq] of this.acked) {
      if (this.counts(id)) point = Math.min(point, seq ?? 0);
    }
    if (point <= this.commitSeq) return [];
    this.commitSeq = point;
    return [{ kind: 'commit', seq: point }];
  }
}
