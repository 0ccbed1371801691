/**
 * A volume's trash: deleting in the drive moves a node here, whole (a folder with everything in
 * it), where it can be restored to where it was, deleted for good, or purged once it has been
 * there for the retention time. The trash is a second root folder of the volume (fs-records.ts)
 * whose entries are named by deletion time, so a listing is oldest first and the purge reads
 * only the front of it. Nodes in the trash keep their bytes, so they count against the quota
 * until they are gone for good.
 */
import { PennError } from '../protocol/errors.js';
import { formatPath, parsePath } from './drive-path.js';
import { listFolder, type FolderPage } from './folder-listing.js';
import type { NodeRecord, NodeType } from './fs-records.js';
import { removeNode } from './node-removal.js';
import { relinkNode } from './node-relink.js';
import type { VolumeTree } from './volume-tree.js';

/** Days a node stays in the trash before it is deleted for good (conf drive.trashRetentionDays). */
export const TRASH_RETENTION_DAYS_DEFAULT = 30;
/** Expired entries one purge deletes: a purge runs on every trash listing and delete, so it stays short. */
export const TRASH_PURGE_ENTRIES_MAX = 100;
/** Entries deleted per page while the trash is emptied, and pages read before giving up. */
export const TRASH_EMPTY_PAGE_ENTRIES = 100;
export const TRASH_EMPTY_PAGES_MAX = 10_000;
/** Entries read to decide that a folder is empty (stale entries do not count). */
const EMPTY_CHECK_ENTRIES = 16;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What the API shows of a node in the trash. */
export interface TrashEntry {
  id: string;
  type: NodeType;
  /** Its name when it was deleted. */
  name: string;
  /** Where it was; restoring puts it back there. */
  originalPath: string;
  /** File bytes (0 for a folder). */
  size: number;
  deletedMs: number;
  /** When the purge deletes it for good. */
  purgeMs: number;
}

/** The trash of one volume. */
export class TrashBin {
  /**
   * @param makeFolders creates the folders of a path that are missing (restoring into a folder
   *   that was itself deleted meanwhile)
   */
  constructor(
    private readonly tree: VolumeTree,
    private readonly retentionMs: number,
    private readonly makeFolders: (names: string[]) => Promise<void>,
  ) {}

  /** Moves the node at `path` to the trash (a folder with entries only with `recursive`). */
  async put(path: string, options: { recursive?: boolean } = {}): Promise<TrashEntry> {
    const names = parsePath(path);
    if (names.length === 0) throw new PennError('BAD_REQUEST', 'the root folder cannot be deleted', { reason: 'ROOT' });
    const { node } = await this.tree.resolve(names);
    if (node.type === 'folder' && !options.recursive) {
      const page = await listFolder(this.tree, node, null, EMPTY_CHECK_ENTRIES);
      if (page.entries.length > 0 || page.nextCursor !== null) {
        throw new PennError('CONFLICT', `${formatPath(names)} is not empty; delete it with recursive=1`, { reason: 'NOT_EMPTY' });
      }
    }
    const deletedMs = this.tree.ctx.now();
    const trashed = await relinkNode(this.tree, node, {
      folder: this.tree.trash,
      name: entryName(deletedMs, node.id),
      sourceLabel: formatPath(names),
      targetLabel: `${formatPath(names)} in the trash`,
      change: (before) => ({ ...before, trashed: { path: formatPath(names), deletedMs } }),
    });
    await this.purge();
    return this.entryOf(trashed);
  }

  /** A page of the trash, oldest deletion first; expired entries are purged first. */
  async list(cursor: string | null, limit: number): Promise<FolderPage<TrashEntry>> {
    await this.purge();
    const page = await listFolder(this.tree, this.tree.trash, cursor, limit);
    return { nextCursor: page.nextCursor, entries: page.entries.map((n) => this.entryOf(n)) };
  }

  /**
   * Puts entry `id` back at its original path, making the folders on the way that are gone.
   * CONFLICT (NAME_TAKEN) when something else has that name now.
   */
  async restore(id: string): Promise<{ node: NodeRecord; path: string }> {
    const node = await this.entry(id);
    const names = parsePath(node.trashed!.path);
    const parentNames = names.slice(0, -1);
    let folder = await this.tree.resolveFolder(parentNames).catch(async (err: unknown) => {
      if (!(err instanceof PennError && err.code === 'NOT_FOUND')) throw err;
      await this.makeFolders(parentNames);
      return null;
    });
    folder ??= await this.tree.resolveFolder(parentNames);
    const path = formatPath(names);
    try {
      const restored = await relinkNode(this.tree, node, {
        folder,
        name: names[names.length - 1]!,
        sourceLabel: `"${names[names.length - 1]}" in the trash`,
        targetLabel: path,
        change: ({ trashed: _trashed, ...rest }) => rest,
      });
      return { node: restored, path };
    } catch (err) {
      if (err instanceof PennError && err.reason === 'NAME_TAKEN') {
        throw new PennError('CONFLICT', `${path} exists again; rename or move it, then restore`, { reason: 'NAME_TAKEN' });
      }
      throw err;
    }
  }

  /** Deletes entry `id` for good (its bytes are reclaimed). */
  async remove(id: string): Promise<void> {
    const node = await this.entry(id);
    if (!await removeNode(this.tree, node.id, this.tree.trash.id)) throw noEntry(id);
  }

  /** Deletes everything in the trash for good; the number of entries deleted. */
  async empty(): Promise<number> {
    let removed = 0;
    for (let page = 0; page < TRASH_EMPTY_PAGES_MAX; page++) {
      const { entries } = await listFolder(this.tree, this.tree.trash, null, TRASH_EMPTY_PAGE_ENTRIES);
      if (entries.length === 0) return removed;
      for (const node of entries) if (await removeNode(this.tree, node.id, this.tree.trash.id)) removed++;
    }
    throw new PennError('UNAVAILABLE', 'the trash kept filling while it was emptied; try again', { reason: 'CONTENTION' });
  }

  /** Deletes for good up to TRASH_PURGE_ENTRIES_MAX entries older than the retention time. */
  async purge(): Promise<number> {
    const cutoffMs = this.tree.ctx.now() - this.retentionMs;
    const { entries } = await listFolder(this.tree, this.tree.trash, null, TRASH_PURGE_ENTRIES_MAX);
    let purged = 0;
    for (const node of entries) {
      // Names sort by deletion time: the first one young enough ends the purge.
      if ((node.trashed?.deletedMs ?? 0) > cutoffMs) break;
      if (await removeNode(this.tree, node.id, this.tree.trash.id)) purged++;
    }
    return purged;
  }

  /** The live trash entry `id`; NOT_FOUND otherwise. */
  private async entry(id: string): Promise<NodeRecord> {
    const node = /^[0-9a-f]{32}$/.test(id) ? await this.tree.node(id) : null;
    if (node === null || node.parentId !== this.tree.trash.id || node.trashed === undefined) throw noEntry(id);
    return node;
  }

  private entryOf(node: NodeRecord): TrashEntry {
    const mark = node.trashed ?? { path: `/${node.name}`, deletedMs: 0 };
    const names = mark.path.split('/');
    return {
      id: node.id, type: node.type, name: names[names.length - 1]!, originalPath: mark.path,
      size: node.size, deletedMs: mark.deletedMs, purgeMs: mark.deletedMs + this.retentionMs,
    };
  }
}

/** The name of a node's entry in the trash: its deletion time (so entries sort by it) and its id. */
function entryName(deletedMs: number, id: string): string {
  return `${String(deletedMs).padStart(15, '0')}-${id.slice(0, 12)}`;
}

function noEntry(id: string): PennError {
  return new PennError('NOT_FOUND', `nothing in your trash has the id "${id.slice(0, 40)}"`, { reason: 'NO_SUCH_TRASH_ENTRY' });
}

/** Days of conf drive.trashRetentionDays as milliseconds. */
export function trashRetentionMs(days: number): number {
  return days * DAY_MS;
}
