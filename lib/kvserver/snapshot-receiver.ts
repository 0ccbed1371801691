/**
 * The receiving side of a snapshot, on a node outside the view (docs/kv-replication.md,
 * *Catching up by snapshot*). A deterministic core checks the stream (one snapshot at a time,
 * chunks consecutive, parts whole, the origins table last) and says what to write, ack, discard
 * or install; the shell writes each part to a temp file in the node's directory (start-up
 * deletes temp files, so a crash while receiving leaves the old data alone), acks each chunk
 * once written (the primary sends at most a window of unacked chunks, which bounds what waits
 * here for the disk), fsyncs each part when it ends, and installs once the end arrives.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerMessage, SnapshotPart } from '../protocol/kv-peer-codec.js';
import type { Logger } from '../protocol/log.js';
import { TEMP_SUFFIX, writeAll } from './durable-files.js';
import { SnapshotRejectedError, type StagedSnapshot } from './snapshot-install.js';

type Begin = Extract<PeerMessage, { kind: 'snapshot-begin' }>;
type Chunk = Extract<PeerMessage, { kind: 'snapshot-chunk' }>;
type End = Extract<PeerMessage, { kind: 'snapshot-end' }>;
type Ack = Extract<PeerMessage, { kind: 'snapshot-ack' }>;

/** Parts (tablets and the origins table) one snapshot may carry. */
export const SNAPSHOT_PARTS_MAX = 65_536;
/**
 * A snapshot from which nothing arrived for this long is abandoned (its sender died or gave
 * up); longer than the sender's own wait for acks (SNAPSHOT_ACK_WAIT_MS), so that a sender
 * that is merely slow is not cut off.
 */
export const SNAPSHOT_RECEIVE_IDLE_MS = 15_000;

/** What the receiver core is told: messages from the sender, and how the files fared. */
export type ReceiverInput =
  | { kind: 'begin'; from: number; message: Begin }
  | { kind: 'chunk'; from: number; message: Chunk }
  | { kind: 'end'; from: number; message: End }
  /** The first `chunks` chunks of the snapshot are written to their files. */
  | { kind: 'written'; snapshotId: number; chunks: number }
  /** Writing or installing failed, or the install rejected the files. */
  | { kind: 'failed'; snapshotId: number; reason: string }
  /** The sender went silent or is no longer the primary: drop what is being received. */
  | { kind: 'abandon'; reason: string }
  | { kind: 'installed'; snapshotId: number };

/** What the receiver core asks the shell to do. */
export type ReceiverEffect =
  /** Append to part `part` (a new file when it is the part's first chunk); `final` ends it. */
  | { kind: 'write'; snapshotId: number; part: number; bytes: Buffer; final: boolean }
  | { kind: 'send'; to: number; message: Ack }
  /** Drop the snapshot's files. */
  | { kind: 'discard'; snapshotId: number; reason: string }
  | { kind: 'install'; snapshotId: number; seq: number; seqView: number; coveredSeq: number; parts: SnapshotPart[] };

interface Receiving {
  from: number;
  view: number;
  snapshotId: number;
  seq: number;
  seqView: number;
  nextIndex: number;
  parts: SnapshotPart[];
  partOpen: boolean;
  installing: boolean;
}

/** The checks of a snapshot stream, free of I/O: one snapshot at a time, in order, whole. */
export class SnapshotReceiveCore {
  private current: Receiving | null = null;
  /** The last snapshot refused, so a stream of its chunks gets one refusal, not one each. */
  private refusedId = -1;

  /** Receiving or installing a snapshot: replicated records must wait. */
  get busy(): boolean {
    return this.current !== null;
  }

  get installing(): boolean {
    return this.current?.installing === true;
  }

  step(input: ReceiverInput): ReceiverEffect[] {
    switch (input.kind) {
      case 'begin': return this.onBegin(input.from, input.message);
      case 'chunk': return this.onChunk(input.from, input.message);
      case 'end': return this.onEnd(input.from, input.message);
      case 'written': {
        const c = this.current;
        if (c === null || c.snapshotId !== input.snapshotId) return [];
        return [this.ack(c.from, c.view, c.snapshotId, input.chunks, false)];
      }
      case 'failed': {
        const c = this.current;
        if (c === null || c.snapshotId !== input.snapshotId) return [];
        return this.abandon(input.reason);
      }
      case 'abandon':
        if (this.current === null || this.current.installing) return [];
        return this.abandon(input.reason);
      case 'installed':
        if (this.current?.snapshotId === input.snapshotId) this.current = null;
        return [];
    }
  }

  private ack(to: number, view: number, snapshotId: number, chunks: number, refused: boolean): ReceiverEffect {
    return { kind: 'send', to, message: { kind: 'snapshot-ack', view, snapshotId, chunks, refused } };
  }

  private refuse(to: number, view: number, snapshotId: number): ReceiverEffect[] {
    if (this.refusedId === snapshotId) return [];
    this.refusedId = snapshotId;
    return [this.ack(to, view, snapshotId, 0, true)];
  }

  /** Drops the current snapshot and tells its sender. */
  private abandon(reason: string): ReceiverEffect[] {
    const c = this.current!;
    this.current = null;
    return [{ kind: 'discard', snapshotId: c.snapshotId, reason }, ...this.refuse(c.from, c.view, c.snapshotId)];
  }

  private onBegin(from: number, m: Begin): ReceiverEffect[] {
    const c = this.current;
    if (c !== null && c.snapshotId === m.snapshotId) return [];
    if (c?.installing === true) return this.refuse(from, m.view, m.snapshotId);
    const effects: ReceiverEffect[] = c === null ? [] : [{ kind: 'discard', snapshotId: c.snapshotId, reason: 'a newer snapshot began' }];
    this.current = {
      from, view: m.view, snapshotId: m.snapshotId, seq: m.seq, seqView: m.seqView, nextIndex: 0, parts: [], partOpen: false, installing: false,
    };
    return effects;
  }

  private onChunk(from: number, m: Chunk): ReceiverEffect[] {
    const c = this.current;
    if (c === null || c.snapshotId !== m.snapshotId || c.from !== from) return this.refuse(from, m.view, m.snapshotId);
    if (c.installing) return [];
    if (m.index !== c.nextIndex) return this.abandon(`chunk ${m.index} arrived where ${c.nextIndex} was expected`);
    if (c.partOpen && m.part !== c.parts.at(-1)) return this.abandon(`a ${m.part} chunk arrived inside a ${c.parts.at(-1)!} part`);
    if (!c.partOpen) {
      if (c.parts.at(-1) === 'origins') return this.abandon('a part arrived after the origins table');
      if (c.parts.length === SNAPSHOT_PARTS_MAX) return this.abandon(`more than ${SNAPSHOT_PARTS_MAX} parts`);
      c.parts.push(m.part);
      c.partOpen = true;
    }
    c.nextIndex++;
    if (m.final) c.partOpen = false;
    return [{ kind: 'write', snapshotId: c.snapshotId, part: c.parts.length - 1, bytes: m.bytes, final: m.final }];
  }

  private onEnd(from: number, m: End): ReceiverEffect[] {
    const c = this.current;
    if (c === null || c.snapshotId !== m.snapshotId || c.from !== from || c.installing) return [];
    if (m.chunkCount !== c.nextIndex) return this.abandon(`the end counts ${m.chunkCount} chunks, ${c.nextIndex} arrived`);
    if (c.partOpen || c.parts.at(-1) !== 'origins' || c.parts.indexOf('origins') !== c.parts.length - 1 || c.parts.length < 2) {
      return this.abandon('the snapshot does not end with whole tablets and then the origins table');
    }
    if (m.coveredSeq < c.seq) return this.abandon(`covered seq ${m.coveredSeq} is before the snapshot point ${c.seq}`);
    c.installing = true;
    return [{ kind: 'install', snapshotId: c.snapshotId, seq: c.seq, seqView: c.seqView, coveredSeq: m.coveredSeq, parts: [...c.parts] }];
  }
}

/** The files of one snapshot being received; writes go one after another. */
class Staging {
  private chain: Promise<void> = Promise.resolve();
  private handle: FileHandle | null = null;
  readonly files: string[] = [];
  /** Chunks written so far (what the ack reports). */
  chunksWritten = 0;
  dead = false;

  constructor(private readonly dir: string, readonly snapshotId: number) {}

  file(part: number): string {
    return join(this.dir, `snapshot-${this.snapshotId}-${part}${TEMP_SUFFIX}`);
  }

  /** Queues `job`; a failure skips the jobs after it and reaches `onError`. */
  then(job: () => Promise<void>, onError: (err: Error) => void): void {
    this.chain = this.chain.then(async () => {
      if (!this.dead) await job();
    }).catch((err: unknown) => {
      this.dead = true;
      onError(err as Error);
    });
  }

  async write(part: number, bytes: Buffer, final: boolean): Promise<void> {
    if (this.handle === null) {
      const file = this.file(part);
      this.files.push(file);
      this.handle = await open(file, 'w');
    }
    await writeAll(this.handle.fd, [bytes]);
    this.chunksWritten++;
    if (final) {
      await this.handle.sync();
      await this.handle.close();
      this.handle = null;
    }
  }

  /** After the queued writes: closes and removes every file. */
  discard(): Promise<void> {
    this.dead = true;
    const done = this.chain.then(async () => {
      await this.handle?.close().catch(() => undefined);
      this.handle = null;
      for (const file of this.files) await unlink(file).catch(() => undefined);
    });
    this.chain = done;
    return done;
  }
}

/** What the receiving shell needs from its node. */
export interface SnapshotReceiverOptions {
  dir: string;
  log: Logger;
  send: (to: number, message: Ack) => void;
  /** Installs a staged snapshot; SnapshotRejectedError leaves the old data in place. */
  install: (staged: StagedSnapshot) => Promise<void>;
}

/** The receiving shell: the core, the staging files, the idle watch. */
export class SnapshotReceiver {
  private readonly core = new SnapshotReceiveCore();
  private staging: Staging | null = null;
  private lastHeardMs = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: SnapshotReceiverOptions) {}

  /** Receiving or installing a snapshot: replicated records are not taken meanwhile. */
  get busy(): boolean {
    return this.core.busy;
  }

  message(from: number, message: Begin | Chunk | End): void {
    this.lastHeardMs = Date.now();
    this.watchIdle();
    switch (message.kind) {
      case 'snapshot-begin': this.apply(this.core.step({ kind: 'begin', from, message })); break;
      case 'snapshot-chunk': this.apply(this.core.step({ kind: 'chunk', from, message })); break;
      case 'snapshot-end': this.apply(this.core.step({ kind: 'end', from, message })); break;
    }
  }

  /** Refuses a snapshot this node cannot take now (it is not outside the view). */
  refuse(from: number, message: Begin | Chunk | End): void {
    if (message.kind === 'snapshot-chunk') {
      this.options.send(from, { kind: 'snapshot-ack', view: message.view, snapshotId: message.snapshotId, chunks: 0, refused: true });
    }
  }

  /** Drops a snapshot being received, unless it is being installed already. */
  abandon(reason: string): void {
    this.apply(this.core.step({ kind: 'abandon', reason }));
  }

  /** Drops a snapshot being received (the node stops). */
  stop(): void {
    if (this.idleTimer !== null) clearInterval(this.idleTimer);
    this.idleTimer = null;
    void this.staging?.discard();
    this.staging = null;
  }

  /** While a snapshot is being received, checks that its sender still sends. */
  private watchIdle(): void {
    if (this.idleTimer !== null) return;
    this.idleTimer = setInterval(() => {
      if (!this.core.busy) {
        clearInterval(this.idleTimer!);
        this.idleTimer = null;
      } else if (Date.now() - this.lastHeardMs > SNAPSHOT_RECEIVE_IDLE_MS) {
        this.abandon(`nothing arrived for ${SNAPSHOT_RECEIVE_IDLE_MS} ms`);
      }
    }, SNAPSHOT_RECEIVE_IDLE_MS / 4);
    this.idleTimer.unref();
  }

  private apply(effects: ReceiverEffect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'send':
          this.options.send(effect.to, effect.message);
          break;
        case 'write': this.write(effect); break;
        case 'discard':
          this.options.log.warn('snapshot abandoned', { snapshotId: effect.snapshotId, reason: effect.reason });
          if (this.staging?.snapshotId === effect.snapshotId) {
            void this.staging.discard();
            this.staging = null;
          }
          break;
        case 'install': this.install(effect); break;
      }
    }
  }

  private write(effect: Extract<ReceiverEffect, { kind: 'write' }>): void {
    if (this.staging?.snapshotId !== effect.snapshotId) {
      void this.staging?.discard();
      this.staging = new Staging(this.options.dir, effect.snapshotId);
      this.options.log.info('receiving a snapshot', { snapshotId: effect.snapshotId });
    }
    const staging = this.staging;
    // The frame's bytes are a view into the connection's buffers: keep a copy.
    const bytes = Buffer.from(effect.bytes);
    staging.then(async () => {
      await staging.write(effect.part, bytes, effect.final);
      this.apply(this.core.step({ kind: 'written', snapshotId: effect.snapshotId, chunks: staging.chunksWritten }));
    }, (err) => this.apply(this.core.step({ kind: 'failed', snapshotId: effect.snapshotId, reason: err.message })));
  }

  private install(effect: Extract<ReceiverEffect, { kind: 'install' }>): void {
    const staging = this.staging;
    if (staging?.snapshotId !== effect.snapshotId) {
      this.apply(this.core.step({ kind: 'failed', snapshotId: effect.snapshotId, reason: 'its files are gone' }));
      return;
    }
    staging.then(async () => {
      const files = effect.parts.map((_p, i) => staging.file(i));
      const staged: StagedSnapshot = {
        seq: effect.seq, seqView: effect.seqView, coveredSeq: effect.coveredSeq,
        tabletFiles: files.slice(0, -1), originsFile: files.at(-1)!,
      };
      try {
        await this.options.install(staged);
      } catch (err) {
        if (!(err instanceof SnapshotRejectedError)) throw err;
        this.apply(this.core.step({ kind: 'failed', snapshotId: effect.snapshotId, reason: err.message }));
        return;
      }
      if (this.staging === staging) this.staging = null;
      this.apply(this.core.step({ kind: 'installed', snapshotId: effect.snapshotId }));
    }, (err) => this.apply(this.core.step({ kind: 'failed', snapshotId: effect.snapshotId, reason: err.message })));
  }
}
