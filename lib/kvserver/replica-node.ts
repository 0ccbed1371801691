/**
 * The replication shell of a node: feeds the ReplicaCore with views from the coordinator,
 * writes sequenced by the store, durability from the log and messages from peers, and carries
 * out its effects (append, send, resend, commit, join). It also stands in front of the store
 * for client requests: only the primary takes writes, and only a primary whose lease holds
 * serves reads (linearizable reads, kv.readFrom "primary").
 *
 * A node the primary cannot catch up by log gets a snapshot: the primary sends it
 * (snapshot-sender.ts), the node receives and installs it (snapshot-receiver.ts,
 * snapshot-install.ts), then catches up by log from the snapshot point.
 *
 * A group of one node runs solo: nobody else holds its data, so nobody can disagree with it
 * and there is nobody to fail over to. It serves from the start, commits on its own fsync,
 * and heartbeats the coordinator only so that the admin console sees it.
 */
import { randomBytes } from 'node:crypto';
import type { NodeFigures, NodeHeartbeatReport, WireGroupView } from '../protocol/coordinator-wire.js';
import type { EncodedLogRecord, PeerMessage } from '../protocol/kv-peer-codec.js';
import type { KvOrigin, KvReplyBody, KvRequestBody } from '../protocol/kv-wire.js';
import type { Logger } from '../protocol/log.js';
import { CommitWaiters } from './commit-waiters.js';
import { CoordinatorLink } from './coordinator-link.js';
import type { KvRequestHandler } from './kv-connection.js';
import type { KvStore } from './kv-store.js';
import type { NotCommittedError, StoreReplication } from './store-replication.js';
import { LogShipper } from './log-shipper.js';
import { PeerLinks, type PeerAddress } from './peer-links.js';
import { ReadConfirmation } from './read-confirmation.js';
import { ReplicaCore, type ReplicaEffect, type ReplicaInput } from './replica-core.js';
import { installSnapshot, SnapshotRejectedError, type StagedSnapshot } from './snapshot-install.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import { SnapshotSender } from './snapshot-sender.js';
import type { WalRecord } from './wal-record.js';
import { ownedValue } from './owned-value.js';
import { stopFatally } from './fatal-stop.js';

/** How often a primary whose commits stall asks the core what to send again. */
export const RETRANSMIT_INTERVAL_MS = 200;
/** How often splits the coordinator has not yet taken are sent to it again. */
export const SPLIT_REGISTER_RETRY_MS = 1_000;
/** Splits waiting to be registered at most; past it the oldest wait for the next promotion. */
export const SPLITS_UNREGISTERED_MAX = 10_000;

export interface ReplicaNodeOptions {
  nodeId: number;
  group: number;
  /** Every node of the group (this one included). */
  members: PeerAddress[];
  coordinator: { failureTimeoutMs: number };
  /** The line to the coordinator, already heartbeating since before recovery. */
  link: CoordinatorLink;
  incarnation: string;
  /** conf kv.readFrom: with "any", a secondary of the view serves reads too (not linearizable). */
  readFrom?: 'primary' | 'any';
  /** The cluster secret its connections to peers prove. */
  secret: Buffer;
  log: Logger;
}

export class ReplicaNode implements KvRequestHandler, StoreReplication {
  private readonly core: ReplicaCore<EncodedLogRecord>;
  private readonly solo: boolean;
  private readonly peers: PeerLinks;
  private readonly shipper: LogShipper;
  private readonly snapshots: SnapshotSender;
  private readonly receiver: SnapshotReceiver;
  private readonly waiters = new CommitWaiters();
  private readonly confirmation = new ReadConfirmation((nonce) => this.apply(this.core.probeSecondaries(nonce)));
  private readonly link: CoordinatorLink;
  /** Replicated records received and not yet applied, in seq order. */
  private readonly toApply: EncodedLogRecord[] = [];
  /** Set while a record waits for its tablet to load (the records after it wait too). */
  private applying: Promise<void> | null = null;
  private disabled = false;
  private retransmitTimer: NodeJS.Timeout | null = null;
  private commitAtLastCheck = -1;
  /** A learner's bookkeeping: whether the primary sent anything since the last catch-up ask. */
  private heardFromPrimary = false;
  private stopped = false;
  /** Random per start, and renewed when this copy must leave the view (see leaveView). */
  private incarnation: string;
  /** Tablet starts (split rows) the coordinator has not confirmed yet, and whether a send runs. */
  private readonly unregisteredSplits = new Set<string>();
  private registeringSplits = false;
  private splitRetryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly store: KvStore, private readonly options: ReplicaNodeOptions) {
    const { coordinator } = options;
    this.incarnation = options.incarnation;
    // The lease: the coordinator deposes no primary sooner than a failure timeout after the
    // last heartbeat it heard; a quarter of it is left as margin for clock rate differences.
    const leaseMs = Math.floor(coordinator.failureTimeoutMs * 3 / 4);
    this.core = new ReplicaCore<EncodedLogRecord>(options.nodeId, leaseMs, { lastSeq: store.lastSeq, lastSeqView: store.lastSeqView });
    this.solo = options.members.length === 1;
    this.peers = new PeerLinks(options.nodeId, options.members.filter((m) => m.id !== options.nodeId), store.options.valueBytesMax, options.log, options.secret,
      options.members.find((m) => m.id === options.nodeId)?.host);
    this.snapshots = new SnapshotSender({
      store, peers: this.peers, log: options.log,
      primaryView: () => (this.core.role === 'primary' && !this.disabled && !this.stopped ? this.core.view!.view : null),
      waitCommitted: (seq) => this.waitCommitted(seq),
      // A chunk rides in a frame the peer accepts (its limit: two values and some headers).
      chunkBytesMax: 2 * store.options.valueBytesMax,
    });
    this.shipper = new LogShipper(store, this.peers, options.log, () => ({ view: this.core.view?.view ?? 0, lastSeq: this.core.lastSeq }), this.snapshots);
    this.receiver = new SnapshotReceiver({
      dir: store.options.dir,
      log: options.log,
      send: (to, message) => this.peers.send(to, message),
      install: (staged) => this.installSnapshot(staged),
    });
    this.link = options.link;
    store.splits.onCommitted((row) => this.registerSplits([row]));
    if (this.solo) {
      this.core.step({ kind: 'view', view: { group: options.group, view: 0, primary: options.nodeId, secondaries: [] } });
    } else {
      store.replication = this;
      store.onDurable(() => this.onDurable());
      this.roleMayHaveChanged();
    }
  }

  /** Takes over the coordinator link (and, with the next heartbeat, takes a role). */
  start(): void {
    this.link.handler = {
      report: () => this.report(),
      onView: (view, sentAtMs) => this.onCoordinatorView(view, sentAtMs),
      onDisabled: (disabled) => this.onDisabled(disabled),
    };
    this.link.heartbeat();
    this.retransmitTimer = setInterval(() => this.retransmitIfStalled(), RETRANSMIT_INTERVAL_MS);
    this.splitRetryTimer = setInterval(() => this.sendSplits(), SPLIT_REGISTER_RETRY_MS);
    if (this.solo) this.registerAllSplits();
  }

  stop(): void {
    this.stopped = true;
    if (this.retransmitTimer !== null) clearInterval(this.retransmitTimer);
    if (this.splitRetryTimer !== null) clearInterval(this.splitRetryTimer);
    this.link.stop();
    this.snapshots.stopAll();
    this.receiver.stop();
    this.peers.close();
    this.confirmation.reset();
    this.waiters.failAll('the node is stopping');
  }

  // ---- StoreReplication ----

  get view(): number {
    return this.core.view?.view ?? 0;
  }

  canSequence(): boolean {
    return !this.disabled && !this.stopped && this.core.canAcceptWrites() && this.store.lastSeq === this.core.lastSeq;
  }

  sequenced(record: WalRecord, encoded: Buffer[]): void {
    this.shipper.remember(record);
    this.apply(this.core.step({ kind: 'sequenced', entry: { seq: record.seq, view: record.view, record: { record, encoded } } }));
  }

  /**
   * Some records became durable. One fsync covers many: stepping with the highest durable seq
   * makes the records after the first of a batch no-ops (one ack, one commit per fsync).
   */
  private onDurable(): void {
    this.apply(this.core.step({ kind: 'durable', seq: this.store.durableSeq }));
  }

  waitCommitted(seq: number): Promise<void> {
    return this.waiters.wait(seq, this.core.commitSeq);
  }

  whenCommitted<T>(seq: number, committed: () => T, failed: (err: NotCommittedError) => T): Promise<T> {
    return this.waiters.when(seq, this.core.commitSeq, committed, failed);
  }

  // ---- KvRequestHandler ----

  execute(body: KvRequestBody, origin: KvOrigin): KvReplyBody | Promise<KvReplyBody> {
    if (body.op === 'STATUS') return this.store.execute(body, origin);
    if (this.disabled) return this.notPrimary();
    if (this.solo) return this.store.execute(body, origin);
    const read = body.op === 'GET' || body.op === 'LIST_ROWS' || body.op === 'LIST_COLUMNS';
    // Reads from any replica: what this secondary has applied, which may lag the primary or
    // hold a write not yet acknowledged (docs/kv-replication.md, "Reads").
    if (read && this.options.readFrom === 'any' && this.core.role === 'secondary') return this.store.execute(body, origin);
    if (!this.core.canAcceptWrites()) return this.notPrimary();
    if (this.store.lastSeq !== this.core.lastSeq) {
      // Just promoted, with records received as a secondary still being applied.
      return { status: 'UNAVAILABLE', message: `node ${this.options.nodeId} is still applying its log as the new primary; retry` };
    }
    if (read && !this.core.canServeReads(Date.now())) {
      if (!this.core.readBarrierPassed()) {
        return { status: 'UNAVAILABLE', message: `node ${this.options.nodeId} is a new primary whose log is not yet committed; retry` };
      }
      return this.readAfterConfirmation(body, origin);
    }
    return this.store.execute(body, origin);
  }

  /** No lease (the coordinator is silent): the secondaries confirm this is still the primary. */
  private async readAfterConfirmation(body: KvRequestBody, origin: KvOrigin): Promise<KvReplyBody> {
    const view = this.core.view!;
    const confirmed = await this.confirmation.confirm(this.confirmation.arrived(), view.view, view.secondaries);
    if (!confirmed || this.core.role !== 'primary' || this.core.view?.view !== view.view) {
      return { status: 'UNAVAILABLE', message: `node ${this.options.nodeId} could not confirm it is still the primary; retry` };
    }
    return this.store.execute(body, origin);
  }

  peerMessage(from: number, message: PeerMessage): void {
    if (this.solo || this.disabled || this.stopped) return;
    switch (message.kind) {
      case 'catch-up':
        if (this.core.role !== 'primary') return;
        // Its snapshot is on its way: it asks again once it has installed it.
        if (this.snapshots.askedWhileSending(from)) return;
        this.step({ kind: 'learner', nodeId: from, ackedSeq: message.lastSeq, ackedSeqView: message.lastSeqView });
        return;
      case 'snapshot-ack':
        if (this.core.role === 'primary') this.snapshots.acked(from, message);
        return;
      case 'snapshot-begin': case 'snapshot-chunk': case 'snapshot-end':
        if (!this.takesSnapshotFrom(from, message.view)) {
          this.receiver.refuse(from, message);
          return;
        }
        this.heardFromPrimary = true;
        this.receiver.message(from, message);
        return;
      case 'replicate':
        // Records arriving while a snapshot replaces the data would land in the old log.
        if (this.receiver.busy) return;
        this.heardFromPrimary = true;
        for (const entry of message.records) {
          const { seq, view } = entry.record;
          this.step({ kind: 'message', from, message: { kind: 'replicate', view: message.view, entry: { seq, view, record: entry } } });
        }
        return;
      case 'probe':
        if (this.receiver.busy) return;
        this.heardFromPrimary = true;
        break;
      default:
        break;
    }
    if (message.kind === 'ack' && message.nonce !== undefined) this.confirmation.acked(from, message.view, message.nonce);
    this.step({ kind: 'message', from, message });
  }

  /**
   * Steps the core and carries out its effects. A primary that hears of a newer view from a
   * peer stops being one there and then: what waited on it is failed as when a view deposes it.
   */
  private step(input: ReplicaInput<EncodedLogRecord>): void {
    const wasPrimary = this.core.role === 'primary';
    this.apply(this.core.step(input));
    if (wasPrimary && this.core.role !== 'primary') {
      this.lostPrimary(`node ${this.options.nodeId} is no longer the primary`);
      this.roleMayHaveChanged();
    }
  }

  /**
   * A node that is not the primary makes its small log writes on the event loop's thread
   * (WalWriter.smallWritesInline): it only waits for them; a primary keeps taking requests.
   */
  private roleMayHaveChanged(): void {
    this.store.logWritesInline = this.core.role !== 'primary';
  }

  private notPrimary(): KvReplyBody {
    const primary = this.disabled ? null : this.core.view?.primary ?? null;
    return {
      status: 'NOT_PRIMARY',
      primary: primary === this.options.nodeId ? null : primary,
      message: this.disabled ? `node ${this.options.nodeId} is disabled` : `node ${this.options.nodeId} is not the primary of group ${this.options.group}`,
    };
  }

  // ---- the coordinator ----

  private report(): { report: NodeHeartbeatReport; figures: NodeFigures } {
    const status = this.store.status();
    const role = this.core.role;
    return {
      report: {
        nodeId: this.options.nodeId,
        incarnation: this.incarnation,
        phase: role === 'standby' ? 'standby' : 'serving',
        lastSeq: this.store.lastSeq,
        lastSeqView: this.store.lastSeqView,
      },
      figures: {
        tablets: status.tablets.length,
        memoryBytes: status.memoryBytes,
        logBytes: status.log.bytes,
        lastCheckpoint: status.lastCheckpoint === null ? null : { seq: status.lastCheckpoint.seq, atMs: status.lastCheckpoint.atMs },
      },
    };
  }

  private onCoordinatorView(view: WireGroupView, sentAtMs: number | null): void {
    if (this.solo || this.stopped) return;
    const before = { role: this.core.role, view: this.core.view?.view ?? -1, primary: this.core.view?.primary ?? null };
    this.apply(this.core.step({ kind: 'view', view }));
    this.roleMayHaveChanged();
    const after = this.core.view;
    if (after?.view !== before.view) this.confirmation.reset();
    if (before.role === 'primary' && this.core.role !== 'primary') this.lostPrimary(`node ${this.options.nodeId} is no longer the primary`);
    if (before.role !== 'primary' && this.core.role === 'primary') {
      // The previous primary may have died between committing a split and registering it. Once
      // everything this node holds is committed, its tablet starts are the group's.
      this.waitCommitted(this.core.lastSeq).then(() => this.registerAllSplits(), () => undefined);
    }
    if (after !== null && (after.view !== before.view || after.primary !== before.primary)) {
      this.options.log.info('view', { view: after.view, primary: after.primary, secondaries: after.secondaries, role: this.core.role });
    }
    // A snapshot from a primary that is no longer one will not complete.
    if (after !== null && after.primary !== before.primary) this.receiver.abandon('the primary changed');
    // Not in the view, a primary elsewhere: ask it for what this node lacks (once per view,
    // and again at each heartbeat while the primary has sent nothing), unless a snapshot is
    // being received or installed (the node's position is about to change).
    if (this.core.role === 'standby' && after !== null && after.primary !== null && after.primary !== this.options.nodeId && !this.receiver.busy) {
      const fresh = after.view !== before.view || after.primary !== before.primary;
      if (fresh || !this.heardFromPrimary) this.askCatchUp(after.primary, after.view);
      this.heardFromPrimary = false;
    }
    if (sentAtMs !== null && this.core.role === 'primary' && view.view === after?.view && view.primary === this.options.nodeId) {
      this.core.step({ kind: 'coordinator-heard', sentAtMs });
    }
  }

  /** A snapshot is taken only outside the view, from the primary of this view or a newer one. */
  private takesSnapshotFrom(from: number, view: number): boolean {
    const mine = this.core.view;
    if (this.core.role !== 'standby' || mine === null) return false;
    return view > mine.view || (view === mine.view && mine.primary === from);
  }

  /**
   * Installs a snapshot received whole. A rejected one changes nothing; any other failure
   * comes after the old log was closed, so the node stops (it recovers either state on restart).
   */
  private async installSnapshot(staged: StagedSnapshot): Promise<void> {
    while (this.applying !== null) await this.applying;
    // Writes this node sequenced as a primary and still waiting for their commit can no longer
    // be seen committed here: their records are about to go with the old log (the clients
    // retry; a record the group did commit is in the snapshot, with its origin).
    this.waiters.failAll(`node ${this.options.nodeId} is replacing its data with a snapshot`);
    try {
      await installSnapshot(this.store, staged);
    } catch (err) {
      if (err instanceof SnapshotRejectedError) {
        this.options.log.warn('snapshot rejected', { reason: err.message });
        throw err;
      }
      stopFatally(this.options.log, 'installing a snapshot failed; stopping', err);
    }
    this.shipper.forget();
    try {
      this.apply(this.core.step({ kind: 'snapshot-installed', seq: staged.seq, seqView: staged.seqView }));
    } catch (err) {
      // Only a node outside the view takes a snapshot: memory and the core now disagree.
      stopFatally(this.options.log, 'a snapshot was installed in the wrong role; stopping', err);
    }
    const view = this.core.view;
    if (!this.stopped && this.core.role === 'standby' && view !== null && view.primary !== null && view.primary !== this.options.nodeId) {
      this.askCatchUp(view.primary, view.view);
    }
  }

  private askCatchUp(primary: number, view: number): void {
    this.peers.send(primary, { kind: 'catch-up', view, lastSeq: this.core.lastSeq, lastSeqView: this.core.lastSeqView });
  }

  private onDisabled(disabled: boolean): void {
    if (disabled === this.disabled) return;
    this.disabled = disabled;
    this.options.log.warn(disabled ? 'disabled by the admin: not serving' : 'enabled by the admin');
    if (disabled) this.lostPrimary(`node ${this.options.nodeId} was disabled`);
  }

  /**
   * This copy holds records the primary never had: it must not count as a member of the view
   * (the primary would wait for its acks forever, and it must never be promoted). A new
   * incarnation tells the coordinator, which drops a restarted member from the view at once;
   * outside the view, the node asks to catch up, and the primary sends it a snapshot.
   */
  private leaveView(): void {
    this.options.log.warn('this copy diverged from the primary; leaving the view (it rejoins by snapshot)', { lastSeq: this.core.lastSeq });
    this.incarnation = randomBytes(8).toString('hex');
    this.link.heartbeat();
  }

  // ---- splits in the coordinator's tablet map ----

  /** Every tablet start this node holds (the coordinator ignores the ones it knows). */
  private registerAllSplits(): void {
    this.registerSplits(this.store.slots.all().map((s) => s.start));
  }

  /** Tells the coordinator of committed splits (`rows`: the new tablets' starts), retrying until it takes them. */
  private registerSplits(rows: string[]): void {
    for (const row of rows) {
      if (this.unregisteredSplits.size >= SPLITS_UNREGISTERED_MAX) {
        this.options.log.warn('too many splits waiting for the coordinator; the rest are registered at the next promotion', { row });
        break;
      }
      this.unregisteredSplits.add(row);
    }
    this.sendSplits();
  }

  /** Sends the waiting registrations one at a time; stops at the first the coordinator does not answer. */
  private sendSplits(): void {
    if (this.registeringSplits || this.unregisteredSplits.size === 0 || this.stopped) return;
    this.registeringSplits = true;
    void (async () => {
      for (const row of [...this.unregisteredSplits]) {
        if (this.stopped || !(this.solo || this.core.role === 'primary')) break;
        if (!(await this.link.split(this.options.group, row))) break;
        this.unregisteredSplits.delete(row);
        this.options.log.debug('split registered with the coordinator', { row });
      }
      this.registeringSplits = false;
    })();
  }

  private lostPrimary(reason: string): void {
    this.unregisteredSplits.clear(); // the next primary registers what it holds
    this.shipper.stopAll();
    this.snapshots.stopAll();
    this.waiters.failAll(reason);
  }

  // ---- effects ----

  private apply(effects: ReplicaEffect<EncodedLogRecord>[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'append':
          this.appendReplicated(effect.entry.record);
          break;
        case 'send': {
          const { to, message } = effect;
          if (message.kind !== 'replicate') this.peers.send(to, message);
          else if (!this.shipper.resending(to)) this.peers.sendRecord(to, message.view, message.entry.record);
          break;
        }
        case 'resend-from': {
          const to = effect.to;
          this.shipper.resend(to, effect.afterSeq, effect.afterSeqView, () => this.needsSnapshot(to),
            () => this.step({ kind: 'peer-prefix-ok', nodeId: to }));
          break;
        }
        case 'snapshot':
          this.shipper.stop(effect.to);
          this.snapshots.start(effect.to);
          break;
        case 'commit':
          this.waiters.release(effect.seq);
          break;
        case 'request-join':
          this.requestJoin(effect.nodeId, effect.view);
          break;
        case 'resync':
          this.leaveView();
          break;
      }
    }
  }

  /**
   * `peer` cannot catch up by log. A learner stops getting records (they would go on top of a
   * different log) and gets a snapshot. A member of the view is told to leave it (only the
   * coordinator may drop it, and commits wait for it until then); outside the view it asks
   * again, and gets a snapshot.
   */
  private needsSnapshot(peer: number): void {
    if (this.core.role !== 'primary') return;
    if (this.core.view!.secondaries.includes(peer)) {
      this.options.log.warn('a secondary of the view cannot be caught up by log; it is told to leave the view and rejoin by snapshot', { peer });
    }
    this.step({ kind: 'peer-diverged', nodeId: peer });
  }

  private appendReplicated(entry: EncodedLogRecord): void {
    // The record was decoded for this node alone: its value is made its own in place (the log
    // writes the bytes that came, views into the message).
    const { record } = entry;
    if (record.op === 'PUT') record.value = ownedValue(record.value);
    this.toApply.push(entry);
    if (this.applying === null) this.drainApplies();
  }

  /**
   * Applies received records in seq order: at once while their tablets are loaded, else the
   * rest waits for the load. The log hears of them as they are applied; acks follow from the
   * store's durable batches (onDurable).
   */
  private drainApplies(): void {
    while (this.toApply.length > 0 && !this.stopped) {
      const entry = this.toApply.shift()!;
      const { record } = entry;
      let result: boolean | Promise<boolean>;
      try {
        result = this.store.applyReplicated(entry);
      } catch (err) {
        this.applyFailed(err);
      }
      if (typeof result === 'boolean') {
        this.applied(record, result);
        continue;
      }
      this.applying = result.then((ok) => {
        this.applied(record, ok);
        this.applying = null;
        this.drainApplies();
      }, (err: unknown) => this.applyFailed(err));
      return;
    }
    if (this.stopped) this.toApply.length = 0;
  }

  private applied(record: WalRecord, ok: boolean): void {
    if (!ok) this.applyFailed(new Error(`replicated record ${record.seq} is for a row this node does not hold`));
    this.shipper.remember(record);
  }

  /** Memory and log no longer agree with the primary's order: stop rather than ack wrongly. */
  private applyFailed(err: unknown): never {
    stopFatally(this.options.log, 'cannot apply a replicated record; stopping', err);
  }

  private requestJoin(nodeId: number, view: number): void {
    const primary = this.options.nodeId;
    void this.link.join({ group: this.options.group, view, primary, nodeId }).then((joined) => {
      this.options.log.info(joined ? 'a caught-up node joins the view' : 'join refused', { nodeId, view });
      if (!joined) this.apply(this.core.step({ kind: 'join-refused', nodeId }));
    });
  }

  private retransmitIfStalled(): void {
    if (this.core.role !== 'primary' || !this.core.lagging) {
      this.commitAtLastCheck = this.core.commitSeq;
      return;
    }
    if (this.core.commitSeq === this.commitAtLastCheck) {
      this.apply(this.core.retransmit().filter((e) => e.kind !== 'resend-from' || !this.shipper.resending(e.to)));
    }
    this.commitAtLastCheck = this.core.commitSeq;
  }
}
