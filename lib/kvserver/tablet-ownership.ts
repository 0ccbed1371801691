/**
 * Changes of which tablets a node holds, at run time: taking one on (empty, or from a snapshot
 * a peer sent) and giving one up. Each runs alone in the maintenance queue, so it never races
 * a checkpoint round or the naming of split halves over the manifest.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpointParts } from './checkpoint-codec.js';
import { fsyncDirectory, writeFileDurable } from './durable-files.js';
import type { KvStore } from './kv-store.js';
import { checkpointFileName } from './manifest.js';
import { Tablet, type TabletRange } from './tablet.js';
import type { TabletSlot } from './tablet-slots.js';

/**
 * Starts holding `range`: empty, or with the content of `snapshot` (a checkpoint, as
 * KvStore.snapshotTablet makes it; its range must be `range`). Durable before it resolves.
 */
export function installTablet(store: KvStore, range: TabletRange, snapshot?: Buffer): Promise<void> {
  return store.maintenance.exclusive(async () => {
    const { tablet, seq } = snapshot === undefined
      ? { tablet: new Tablet(range.start, range.end), seq: store.lastSeq }
      : fromSnapshot(snapshot, range);
    const slot: TabletSlot = {
      id: store.nextTabletId++, start: range.start, end: range.end, tablet, bytes: tablet.bytes,
      residentBytes: tablet.residentBytes, checkpointLogged: new Map(tablet.loggedBytes),
      checkpointSeq: seq, lastWriteSeq: 0, dirtySinceSeq: null, loading: null, busy: false, unsplittableRows: -1,
      checkpointFile: true, manifestPinSeq: null,
    };
    await writeFileDurable(join(store.options.dir, checkpointFileName(slot.id)), encodeCheckpointParts(tablet, seq));
    store.slots.insert(slot);
    store.memoryBytes += tablet.residentBytes;
    await store.maintenance.nameTablets();
    store.maintenance.schedule();
    store.log.info('tablet installed', { start: range.start, end: range.end, bytes: tablet.bytes, seq });
  });
}

function fromSnapshot(snapshot: Buffer, range: TabletRange): { tablet: Tablet; seq: number } {
  const { header, tablet } = decodeCheckpoint(snapshot);
  if (header.start !== range.start || header.end !== range.end) {
    throw new Error(`snapshot holds [${JSON.stringify(header.start)}, ${JSON.stringify(header.end)}), not the tablet to install`);
  }
  return { tablet, seq: header.seq };
}

/** Stops holding the tablet starting at `start`; its rows then get WRONG_TABLET. False if not held. */
export function removeTablet(store: KvStore, start: string): Promise<boolean> {
  return store.maintenance.exclusive(async () => {
    const slot = store.slots.forStart(start);
    if (slot === undefined) return false;
    if (slot.loading !== null) await slot.loading.catch(() => undefined);
    store.slots.remove(slot);
    if (slot.tablet !== null) store.memoryBytes -= slot.tablet.residentBytes;
    await store.maintenance.nameTablets();
    await unlink(join(store.options.dir, checkpointFileName(slot.id)));
    await fsyncDirectory(store.options.dir);
    store.log.info('tablet removed', { start });
    return true;
  });
}
