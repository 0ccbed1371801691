/**
 * A node catching up by snapshot replaces its data with the primary's: the tablets it received
 * (staged in temp files, fsynced), the origins table, and a log that restarts after the
 * snapshot point. Whatever it held before (memory, log, checkpoints) is discarded.
 *
 * Crash safety: the manifest is the switch. Until it is rewritten, the new checkpoints and
 * origins file are files it does not name (start-up deletes them, and the temp files) and the
 * old manifest, checkpoints and log are untouched: the node recovers its old state. The new
 * manifest names the new tablets, records the snapshot point (seq, view, covered seq, origins
 * file) and lists the old log segments as retired; from then on start-up deletes those
 * segments before it replays anything, so the old log is never replayed over the new data,
 * and the node recovers the snapshot. The new log's first segment is created only after a
 * manifest without that list is written, since it may bear the name of a retired one.
 */
import { readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointCorruptError, verifyCheckpointBytes, type CheckpointHeader } from './checkpoint-codec.js';
import { fsyncDirectory } from './durable-files.js';
import type { KvStore } from './kv-store.js';
import { checkpointFileName, originsFileName, writeManifest, type Manifest, type ManifestSnapshot } from './manifest.js';
import { OriginsCorruptError, decodeOrigins, originsFrom } from './snapshot-origins.js';
import type { TabletSlot } from './tablet-slots.js';
import { WalWriter } from './wal-writer.js';

/** A snapshot received whole: every file written and fsynced under a temporary name. */
export interface StagedSnapshot {
  /** The snapshot point: the log restarts after it. */
  seq: number;
  seqView: number;
  /** No tablet reflects a record after it. */
  coveredSeq: number;
  /** Checkpoint-format tablets, in key order. */
  tabletFiles: string[];
  originsFile: string;
}

/** A staged snapshot that is not fit to install; nothing was changed. */
export class SnapshotRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotRejectedError';
  }
}

/** The durable steps of an install, in order (for tests that stop an install after one). */
export type InstallStep = 'files-renamed' | 'manifest-switched' | 'old-data-removed' | 'manifest-settled' | 'log-started';

/**
 * Checks the staged files, then installs them (see the file comment) and hands the store its
 * new state. Rejects with SnapshotRejectedError, changing nothing, if a file fails its checks.
 * Any other failure happens after the old log was closed and must stop the node: its memory
 * no longer matches its disk. `afterStep` lets a test stop after a given durable step.
 */
export function installSnapshot(store: KvStore, staged: StagedSnapshot, afterStep?: (step: InstallStep) => Promise<void>): Promise<void> {
  return store.maintenance.exclusive(async () => {
    const headers = await verifyStaged(staged);
    const origins = await readStagedOrigins(staged);
    const dir = store.options.dir;
    await store.loadsSettled();
    const oldWal = store.wal!;
    await oldWal.close();
    const step = afterStep ?? (async () => undefined);

    let nextTabletId = store.nextTabletId;
    const slots: TabletSlot[] = [];
    for (let i = 0; i < staged.tabletFiles.length; i++) {
      const header = headers[i]!;
      const id = nextTabletId++;
      await rename(staged.tabletFiles[i]!, join(dir, checkpointFileName(id)));
      slots.push({
        id, start: header.start, end: header.end, tablet: null, bytes: header.bytes, residentBytes: header.residentBytes,
        checkpointLogged: new Map(), checkpointSeq: header.seq,
        lastWriteSeq: 0, dirtySinceSeq: null, loading: null, busy: false, unsplittableRows: -1,
        checkpointFile: true, manifestPinSeq: null,
      });
    }
    const originsId = nextTabletId++;
    await rename(staged.originsFile, join(dir, originsFileName(originsId)));
    await fsyncDirectory(dir);
    await step('files-renamed');

    const point: ManifestSnapshot = { seq: staged.seq, view: staged.seqView, coveredSeq: staged.coveredSeq, originsId };
    const manifest: Manifest = {
      nodeId: store.options.nodeId,
      nextTabletId,
      tablets: slots.map((s) => ({ id: s.id, start: s.start, end: s.end })),
      snapshot: point,
    };
    const retired = oldWal.segments.map((s) => s.file);
    await writeManifest(dir, { ...manifest, retiredSegments: retired });
    await step('manifest-switched');

    const oldFiles = [
      ...store.slots.all().map((s) => checkpointFileName(s.id)),
      ...(store.snapshotPoint === null ? [] : [originsFileName(store.snapshotPoint.originsId)]),
      ...retired,
    ];
    for (const name of oldFiles) await unlink(join(dir, name)).catch(ignoreMissing);
    await fsyncDirectory(dir);
    await step('old-data-removed');
    await writeManifest(dir, manifest);
    await step('manifest-settled');
    const wal = await WalWriter.open(dir, [], staged.seq, store.options.onFatal);
    await step('log-started').catch(async (err: unknown) => {
      await wal.close();
      throw err;
    });

    store.replaceAfterSnapshot({ slots, wal, origins: originsFrom(origins), point, nextTabletId });
    store.log.info('snapshot installed', {
      seq: staged.seq, seqView: staged.seqView, coveredSeq: staged.coveredSeq, tablets: slots.length,
    });
  });
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

/** Every tablet whole (checksum), in key order without overlap, within the snapshot's seqs. */
async function verifyStaged(staged: StagedSnapshot): Promise<CheckpointHeader[]> {
  if (staged.tabletFiles.length === 0) throw new SnapshotRejectedError('the snapshot holds no tablet');
  const headers: CheckpointHeader[] = [];
  for (const file of staged.tabletFiles) {
    let header: CheckpointHeader;
    try {
      const verified = verifyCheckpointBytes(await readFile(file));
      // Values kept in a log are the sender's own: a snapshot must carry every value itself.
      if (verified.loggedBytes.size > 0) throw new CheckpointCorruptError('it refers to values in a log');
      header = verified.header;
    } catch (err) {
      if (err instanceof CheckpointCorruptError) throw new SnapshotRejectedError(`tablet ${headers.length} of the snapshot: ${err.message}`);
      throw err;
    }
    const previous = headers.at(-1);
    if (previous !== undefined && (previous.end === null || header.start < previous.end)) {
      throw new SnapshotRejectedError(`tablet starting at ${JSON.stringify(header.start)} overlaps the one before it`);
    }
    if (header.seq < staged.seq || header.seq > staged.coveredSeq) {
      throw new SnapshotRejectedError(`tablet starting at ${JSON.stringify(header.start)} is as of seq ${header.seq}, outside [${staged.seq}, ${staged.coveredSeq}]`);
    }
    headers.push(header);
  }
  return headers;
}

async function readStagedOrigins(staged: StagedSnapshot): Promise<ReturnType<typeof decodeOrigins>['entries']> {
  try {
    const decoded = decodeOrigins(await readFile(staged.originsFile));
    if (decoded.seq !== staged.seq) throw new SnapshotRejectedError(`origins are as of seq ${decoded.seq}, not ${staged.seq}`);
    return decoded.entries;
  } catch (err) {
    if (err instanceof OriginsCorruptError) throw new SnapshotRejectedError(`origins of the snapshot: ${err.message}`);
    throw err;
  }
}
