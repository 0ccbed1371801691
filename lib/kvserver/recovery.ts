/**
 * Start-up of a node's store: bootstrap an empty data directory, or recover an existing one
 * (clear crash leftovers, verify every checkpoint, replay the log). Any sign that acknowledged
 * data is damaged stops the start with a KvStartError naming the file, rather than serve
 * wrong data.
 */
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeCheckpoint } from './checkpoint-codec.js';
import { TEMP_SUFFIX, fsyncDirectory, writeFileDurable } from './durable-files.js';
import { KvStore, walPayloadBytesMax, type KvStoreOptions } from './kv-store.js';
import {
  MANIFEST_FILE, checkpointFileName, originsFileName, readManifest, writeManifest, type Manifest,
} from './manifest.js';
import { CheckpointFileError, verifyCheckpoint } from './slot-loader.js';
import { OriginsCorruptError, decodeOrigins, originsFrom } from './snapshot-origins.js';
import { Tablet, type TabletRange } from './tablet.js';
import type { TabletSlot } from './tablet-slots.js';
import { WalCorruptError, recoverWal } from './wal-reader.js';
import { isSegmentFileName, listSegmentFiles, segmentFileName } from './wal-segments.js';
import { WalWriter } from './wal-writer.js';

/** The store cannot start safely; the message says why and names the file. */
export class KvStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KvStartError';
  }
}

const CHECKPOINT_PATTERN = /^tablet-(\d+)\.ckpt$/;
const ORIGINS_PATTERN = /^origins-(\d+)\.snap$/;

/**
 * Opens (recovering or bootstrapping) the store in `options.dir`. `initialTablets` are the
 * ranges this node serves when its directory is new; after that the manifest is authoritative.
 */
export async function openKvStore(options: KvStoreOptions, initialTablets: TabletRange[]): Promise<KvStore> {
  const { dir, log } = options;
  await mkdir(dir, { recursive: true });
  await removeTempFiles(dir, options);
  let manifest = await readManifestOrFail(dir);
  if (manifest === null) {
    if ((await listSegmentFiles(dir)).length > 0) {
      throw new KvStartError(`${join(dir, MANIFEST_FILE)} is missing but log segments exist; refusing to start`);
    }
    manifest = await bootstrap(options, initialTablets);
    log.info('new data directory', { dir, tablets: manifest.tablets.length });
  }
  manifest = await removeRetiredSegments(dir, manifest, options);
  await removeOrphanCheckpoints(dir, manifest, options);

  const store = new KvStore(options);
  store.nextTabletId = manifest.nextTabletId;
  const point = manifest.snapshot ?? null;
  if (point !== null) {
    store.snapshotPoint = point;
    store.origins = originsFrom(await readOriginsFile(dir, point.originsId));
  }
  const slots: TabletSlot[] = [];
  let checkpointSeqMax = 0;
  for (const t of manifest.tablets) {
    let header;
    let loggedBytes;
    try {
      ({ header, loggedBytes } = await verifyCheckpoint(dir, t.id, t));
    } catch (err) {
      if (err instanceof CheckpointFileError) throw new KvStartError(`${err.message}; refusing to start`);
      throw err;
    }
    checkpointSeqMax = Math.max(checkpointSeqMax, header.seq);
    slots.push({
      id: t.id, start: t.start, end: t.end, tablet: null, bytes: header.bytes, residentBytes: header.residentBytes,
      checkpointLogged: loggedBytes, checkpointSeq: header.seq, lastWriteSeq: 0, dirtySinceSeq: null, loading: null, busy: false, unsplittableRows: -1,
      checkpointFile: true, manifestPinSeq: null,
    });
  }
  store.slots.reset(slots);

  let replayed = 0;
  let recovered;
  try {
    // Records every checkpoint holds are not replayed: segments of only such records are kept
    // for the values in them, and are not read now.
    const replayFromSeq = Math.min(...slots.map((s) => s.checkpointSeq)) + 1;
    recovered = await recoverWal(dir, walPayloadBytesMax(options.valueBytesMax), log, async (record, place) => {
      replayed++;
      await store.replayRecord(record, place);
    }, replayFromSeq);
  } catch (err) {
    if (err instanceof WalCorruptError) throw new KvStartError(err.message);
    throw err;
  }
  let lastSeq = recovered.lastSeq;
  if (point !== null) {
    const first = recovered.segments[0];
    if (first !== undefined && first.firstSeq <= point.seq) {
      throw new KvStartError(`log segment ${join(dir, first.file)} starts at seq ${first.firstSeq}, inside the snapshot installed at ${point.seq}; refusing to start`);
    }
    if (lastSeq <= point.seq) {
      // Nothing logged since the snapshot: the node holds exactly the snapshot point.
      lastSeq = point.seq;
      store.lastSeqView = point.view;
    }
  }
  // A checkpoint past the log end is one a snapshot brought (every record up to its covered
  // seq was committed); anything else means the log lost acknowledged records.
  const coveredSeq = Math.max(lastSeq, point?.coveredSeq ?? 0);
  if (checkpointSeqMax > coveredSeq) {
    throw new KvStartError(`a checkpoint in ${dir} holds seq ${checkpointSeqMax} but the log ends at ${lastSeq}; refusing to start`);
  }
  // Values kept in the log must find their segments (only the last one may have been cut).
  const held = new Set(recovered.segments.map((s) => s.firstSeq));
  for (const slot of slots) {
    for (const segment of slot.checkpointLogged.keys()) {
      if (!held.has(segment)) {
        throw new KvStartError(`checkpoint ${join(dir, checkpointFileName(slot.id))} keeps values in log segment ${segmentFileName(segment)}, which is missing; refusing to start`);
      }
    }
  }
  store.lastSeq = lastSeq;
  await store.maintenance.idle(Number.POSITIVE_INFINITY);
  store.wal = await WalWriter.open(dir, recovered.segments, lastSeq, options.onFatal);
  log.info('store recovered', { lastSeq: store.lastSeq, replayed, tablets: slots.length, memoryBytes: store.memoryBytes });
  return store;
}

async function readManifestOrFail(dir: string): Promise<Manifest | null> {
  try {
    return await readManifest(dir);
  } catch (err) {
    throw new KvStartError((err as Error).message);
  }
}

/** Empty checkpoints for every initial tablet, then the manifest that names them. */
async function bootstrap(options: KvStoreOptions, ranges: TabletRange[]): Promise<Manifest> {
  if (ranges.length === 0) throw new KvStartError(`node ${options.nodeId} has no tablets in its configuration`);
  const tablets = ranges.map((r, i) => ({ id: i + 1, start: r.start, end: r.end }));
  for (const t of tablets) {
    await writeFileDurable(join(options.dir, checkpointFileName(t.id)), [encodeCheckpoint(new Tablet(t.start, t.end), 0)]);
  }
  const manifest = { nodeId: options.nodeId, nextTabletId: tablets.length + 1, tablets };
  await writeManifest(options.dir, manifest);
  return manifest;
}

/** A temp file is a write cut short by a crash; the file it was to replace is still whole. */
async function removeTempFiles(dir: string, options: KvStoreOptions): Promise<void> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    options.log.warn('removing a file left by an interrupted write', { file: name });
    await unlink(join(dir, name));
    removed++;
  }
  if (removed > 0) await fsyncDirectory(dir);
}

/**
 * Checkpoints and origins files the manifest does not name: halves of a split that did not
 * complete, or the new data of a snapshot install cut short before its manifest was written.
 */
async function removeOrphanCheckpoints(dir: string, manifest: Manifest, options: KvStoreOptions): Promise<void> {
  const known = new Set(manifest.tablets.map((t) => t.id));
  let removed = 0;
  for (const name of await readdir(dir)) {
    const checkpoint = CHECKPOINT_PATTERN.exec(name);
    const origins = ORIGINS_PATTERN.exec(name);
    if (checkpoint !== null && !known.has(Number(checkpoint[1]))) {
      options.log.warn('removing a checkpoint the manifest does not name (left by a split or a snapshot install)', { file: name });
    } else if (origins !== null && Number(origins[1]) !== manifest.snapshot?.originsId) {
      options.log.warn('removing an origins table the manifest does not name (left by a snapshot install)', { file: name });
    } else {
      continue;
    }
    await unlink(join(dir, name));
    removed++;
  }
  if (removed > 0) await fsyncDirectory(dir);
}

/**
 * The log segments a snapshot replaced, when a crash came before they were deleted: they
 * must never be replayed over the snapshot's data. Then the manifest forgets them.
 */
async function removeRetiredSegments(dir: string, manifest: Manifest, options: KvStoreOptions): Promise<Manifest> {
  const retired = manifest.retiredSegments ?? [];
  if (retired.length === 0) return manifest;
  for (const name of retired) {
    if (!isSegmentFileName(name)) throw new KvStartError(`manifest in ${dir} retires ${JSON.stringify(name)}, which is not a log segment; refusing to start`);
    try {
      await unlink(join(dir, name));
      options.log.warn('removing a log segment replaced by a snapshot', { file: name });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  await fsyncDirectory(dir);
  const { retiredSegments: _done, ...rest } = manifest;
  await writeManifest(dir, rest);
  return rest;
}

async function readOriginsFile(dir: string, id: number): Promise<ReturnType<typeof decodeOrigins>['entries']> {
  const file = join(dir, originsFileName(id));
  try {
    return decodeOrigins(await readFile(file)).entries;
  } catch (err) {
    if (err instanceof OriginsCorruptError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KvStartError(`origins table ${file} is unusable (${(err as Error).message}); refusing to start`);
    }
    throw err;
  }
}

