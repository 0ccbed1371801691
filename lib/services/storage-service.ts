/**
 * The storage service: a file system per volume on the KV store. A volume is one user's tree
 * under a name of the caller's choosing ("drive:ann" for the drive; mail keeps its own
 * volumes), with its own quota. Nested folders, files of any size in chunks, ids fixed across
 * rename and move, folder entries changed only by compare-and-put. No HTTP here: callers get
 * records, streams and PennErrors.
 */
import type { Readable } from 'node:stream';
import { PennError } from '../protocol/errors.js';
import { casUpdate } from './cas-update.js';
import { chunkCount, deleteChunks } from './chunk-rows.js';
import { readContent } from './content-reader.js';
import { UPLOAD_STALE_MS, writeContent, writtenChunks, type WrittenContent } from './content-writer.js';
import { formatPath, parsePath, PATH_DEPTH_MAX } from './drive-path.js';
import { listFolder, LIST_PAGE_ENTRIES_MAX, type FolderPage } from './folder-listing.js';
import {
  decodeNode, encodeNode, META_COLUMN, newNodeId, nodeRow, type NodeRecord,
} from './fs-records.js';
import type { KvTable } from './kv-table.js';
import { removeNode } from './node-removal.js';
import { nameBusy, relinkNode } from './node-relink.js';
import { QuotaLedger } from './quota-ledger.js';
import { TRANSFER_BUDGET_BYTES, TransferBudget } from './transfer-budget.js';
import { TrashBin, trashRetentionMs, TRASH_RETENTION_DAYS_DEFAULT } from './trash-bin.js';
import {
  driveIndex, drivingTerm, nodeMatches, nodeTerms, SEARCH_PAGE_MAX, SEARCH_SCAN_PAGE_ENTRIES,
  SEARCH_SCAN_ENTRIES_MAX, type DriveQuery,
} from './drive-search.js';
import { VolumeTree } from './volume-tree.js';

export { LIST_PAGE_ENTRIES_MAX, type FolderPage } from './folder-listing.js';
export type { NodeRecord } from './fs-records.js';

/** Rounds of committing an upload when its name keeps changing hands. */
export const COMMIT_ROUNDS_MAX = 8;
/** Entries read to decide that a folder is empty (stale entries do not count). */
const EMPTY_CHECK_ENTRIES = 16;

/** How an upload's commit ended: linked (new or switched), or its folder was deleted meanwhile. */
type Committed = { node: NodeRecord; created: boolean; displaced: NodeRecord | null } | 'parent-gone';

/** How the storage service writes new files. */
export interface StorageOptions {
  /** Bytes per chunk of new files (conf drive.chunkBytes; at most kv.valueBytesMax). */
  chunkBytes: number;
  /** Silence after which an upload is reclaimed (conf drive.uploadStaleMs; default UPLOAD_STALE_MS). */
  uploadStaleMs?: number;
  /** How long a deleted node stays in the trash (conf drive.trashRetentionDays; default 30 days). */
  trashRetentionMs?: number;
  /** Chunk bytes all transfers together hold past one chunk each (default TRANSFER_BUDGET_BYTES). */
  transferBudgetBytes?: number;
  now?: () => number;
}

/** What callers see of a node. */
export interface NodeInfo {
  id: string;
  type: 'file' | 'folder';
  name: string;
  path: string;
  size: number;
  createdMs: number;
  modifiedMs: number;
}

/** The entry point: hands out volumes, each a separate tree with its own quota. */
export class StorageService {
  /** Shared by the uploads and downloads of every volume this service hands out. */
  private readonly transferBudget: TransferBudget;

  constructor(private readonly kv: KvTable, private readonly options: StorageOptions) {
    this.transferBudget = new TransferBudget(options.transferBudgetBytes ?? TRANSFER_BUDGET_BYTES);
  }

  /**
   * The volume `name` (created on first write), limited to `quotaBytes`. A `searchable` volume
   * (a drive) keeps its names in a term index for `Volume.search`; mail's volumes need none.
   */
  volume(name: string, quotaBytes: number, options: { searchable?: boolean } = {}): Volume {
    return new Volume(this.options.trashRetentionMs ?? trashRetentionMs(TRASH_RETENTION_DAYS_DEFAULT), new VolumeTree({
      kv: this.kv,
      volume: name,
      ledger: new QuotaLedger(this.kv, name, quotaBytes),
      chunkBytes: this.options.chunkBytes,
      uploadStaleMs: this.options.uploadStaleMs ?? UPLOAD_STALE_MS,
      transferBudget: this.transferBudget,
      names: options.searchable ? driveIndex(this.kv, name) : null,
      now: this.options.now ?? Date.now,
    }));
  }
}

/** One tree: every operation takes paths inside it and nothing can name a path outside. */
export class Volume {
  /** Deleted nodes, until restored or deleted for good (trash-bin.ts). */
  readonly trash: TrashBin;

  constructor(trashRetentionMs: number, private readonly tree: VolumeTree) {
    this.trash = new TrashBin(tree, trashRetentionMs, async (names) => {
      await this.createFolder(formatPath(names), { parents: true });
    });
  }

  /** The node at `path`. */
  async stat(path: string): Promise<NodeInfo> {
    return new ReadOnlyTree(this.tree, this.tree.root).stat(path);
  }

  /** A page of a folder's entries by name, after `cursor` (a name) if given. */
  async list(path: string, options: { cursor?: string | null; limit?: number } = {}): Promise<FolderPage<NodeInfo>> {
    return new ReadOnlyTree(this.tree, this.tree.root).list(path, options);
  }

  /**
   * Reading below node `id` (what a share link or a shared folder shows): paths are relative
   * to it, and nothing outside it can be named. NOT_FOUND once it is gone or in the trash.
   */
  async below(id: string): Promise<ReadOnlyTree> {
    const node = /^[0-9a-f]{32}$/.test(id) && id !== this.tree.root.id ? await this.tree.node(id) : null;
    const lost = new PennError('NOT_FOUND', 'the shared file or folder was deleted', { reason: 'SHARE_TARGET_GONE' });
    if (node === null) throw lost;
    const ids = await this.tree.ancestry(node.parentId!).catch(() => null);
    if (ids === null || ids[ids.length - 1] !== this.tree.root.id) throw lost;
    return new ReadOnlyTree(this.tree, node);
  }

  /**
   * A page of the files and folders anywhere in the tree whose names have every word of
   * `query` (as word prefixes) and its kind, after `cursor`. The page may hold fewer than
   * `limit` with a cursor still set: the request read its share of the index and stopped.
   */
  async search(query: DriveQuery, cursor: string | null, limit: number): Promise<FolderPage<NodeInfo>> {
    const names = this.tree.ctx.names;
    if (names === null) throw new Error('search() on a volume made without searchable');
    const term = await drivingTerm(names, query);
    const wanted = Math.max(1, Math.min(SEARCH_PAGE_MAX, limit));
    const entries: NodeInfo[] = [];
    // Hits often share folders: each folder's path is read once per request.
    const folders = new Map<string, Promise<string | null>>();
    let after = cursor;
    for (let scanned = 0; scanned < SEARCH_SCAN_ENTRIES_MAX;) {
      const { keys, more } = await names.keys(term, after, Math.min(SEARCH_SCAN_PAGE_ENTRIES, SEARCH_SCAN_ENTRIES_MAX - scanned));
      scanned += keys.length;
      const found = await Promise.all(keys.map(async (id) => {
        const node = await this.tree.node(id);
        if (node === null) {
          await names.remove([term], id);
          return null;
        }
        if (!nodeMatches(query, node)) return null;
        const path = await this.pathOf(id, folders);
        return path === null ? null : { ...info(node, []), path };
      }));
      for (let i = 0; i < keys.length; i++) {
        const hit = found[i];
        if (hit) entries.push(hit);
        if (entries.length === wanted) return { entries, nextCursor: i === keys.length - 1 && !more ? null : keys[i]! };
      }
      if (!more || keys.length === 0) return { entries, nextCursor: null };
      after = keys[keys.length - 1]!;
    }
    return { entries, nextCursor: after };
  }

  /**
   * The path of node `id` now (it follows renames and moves), or null when gone or in the trash.
   * `folders` shares folder lookups between calls (a search page).
   */
  async pathOf(id: string, folders?: Map<string, Promise<string | null>>): Promise<string | null> {
    const node = await this.tree.node(id);
    if (node === null) return null;
    if (node.id === this.tree.root.id) return '/';
    if (node.parentId === null) return null;
    return this.folderPath(node.parentId, folders ?? new Map(), 0).then((parent) => parent === null ? null : `${parent === '/' ? '' : parent}/${node.name}`);
  }

  /** The path of folder `id`, each folder read once per `known` (one search page's hits share their folders). */
  private folderPath(id: string, known: Map<string, Promise<string | null>>, depth: number): Promise<string | null> {
    if (id === this.tree.root.id) return Promise.resolve('/');
    let path = known.get(id);
    if (path === undefined) {
      path = (async () => {
        const folder = await this.tree.node(id);
        if (folder === null || folder.parentId === null || depth > PATH_DEPTH_MAX) return null;
        const parent = await this.folderPath(folder.parentId, known, depth + 1);
        return parent === null ? null : `${parent === '/' ? '' : parent}/${folder.name}`;
      })();
      known.set(id, path);
    }
    return path;
  }

  /**
   * Creates a folder. With `parents`, missing folders on the way are made too and an existing
   * folder at `path` is fine; without, the parent must exist and the name must be free.
   */
  async createFolder(path: string, options: { parents?: boolean } = {}): Promise<{ node: NodeInfo; created: boolean }> {
    const names = parsePath(path);
    if (names.length === 0) throw new PennError('CONFLICT', 'the root folder always exists', { reason: 'NAME_TAKEN' });
    let folder = options.parents ? this.tree.root : await this.tree.resolveFolder(names.slice(0, -1));
    let created = false;
    for (let i = options.parents ? 0 : names.length - 1; i < names.length; i++) {
      const last = i === names.length - 1;
      const outcome = await this.makeFolder(folder, names.slice(0, i + 1));
      if (!outcome.created && (last && !options.parents)) {
        throw new PennError('CONFLICT', `${formatPath(names)} already exists`, { reason: 'NAME_TAKEN' });
      }
      if (outcome.node.type !== 'folder') {
        throw new PennError('CONFLICT', `${formatPath(names.slice(0, i + 1))} is a file`, { reason: 'NOT_A_FOLDER' });
      }
      folder = outcome.node;
      created = outcome.created;
    }
    return { node: info(folder, names), created };
  }

  /** Bytes used and allowed. */
  async usage(): Promise<{ usedBytes: number; quotaBytes: number }> {
    return { usedBytes: await this.tree.ctx.ledger.usedBytes(), quotaBytes: this.tree.ctx.ledger.quotaBytes };
  }

  /** Refuses (QUOTA_EXCEEDED) when `bytes` more would not fit now; reserves nothing. */
  async checkRoom(bytes: number): Promise<void> {
    await this.tree.ctx.ledger.checkRoom(bytes);
  }

  /**
   * Creates or replaces the file at `path` with the bytes of `source`. The new content is
   * written in full first, then the file's record is switched to it in one CPUT, then the old
   * chunks are reclaimed: a reader sees the old bytes or the new, never a mix. The parent
   * folder is found by path at the start; a move of that folder meanwhile does not matter, the
   * file lands in it wherever it is (ids do not change).
   */
  async writeFile(path: string, source: AsyncIterable<Uint8Array>, declaredBytes: number | null): Promise<{ node: NodeInfo; created: boolean }> {
    const names = parsePath(path);
    if (names.length === 0) throw new PennError('CONFLICT', 'the root is a folder', { reason: 'IS_A_FOLDER' });
    const name = names[names.length - 1]!;
    const parent = await this.tree.resolveFolder(names.slice(0, -1));
    const present = await this.tree.child(parent.id, name);
    if (present !== null && present.type === 'folder') throw isAFolder(names);
    const { kv, ledger, chunkBytes, now, uploadStaleMs, transferBudget } = this.tree.ctx;
    const content = await writeContent(kv, source, { chunkBytes, ledger, declaredBytes, now, staleMs: uploadStaleMs, budget: transferBudget });
    // The file's size stays charged (to the file, from here on); the rest of the reservation goes back.
    if (!await ledger.finishUpload(content.contentId, content.size)) {
      await deleteChunks(kv, content.contentId, writtenChunks(content));
      throw new PennError('UNAVAILABLE', 'the upload was idle for too long and has been discarded', { reason: 'UPLOAD_EXPIRED' });
    }
    let committed: Committed;
    try {
      committed = await this.commitFile(parent.id, names, content);
    } catch (err) {
      await deleteChunks(kv, content.contentId, writtenChunks(content));
      await ledger.release(content.size);
      throw err;
    }
    // Linked into a folder deleted meanwhile: the file went with it (and its bytes were reclaimed).
    if (committed === 'parent-gone') throw parentGone(names);
    if (committed.displaced !== null) {
      const old = committed.displaced;
      await deleteChunks(kv, old.contentId, chunkCount(old.size, old.chunkBytes));
      await ledger.release(old.size);
    }
    return { node: info(committed.node, names), created: committed.created };
  }

  /**
   * The file at `path`: its description, and `read(start, end)` giving its bytes `start`..`end`
   * (inclusive) as a stream of the content it had when opened. Callers check the range
   * against `node.size`.
   */
  async openFile(path: string): Promise<OpenedFile> {
    return new ReadOnlyTree(this.tree, this.tree.root).openFile(path);
  }

  /**
   * Renames or moves `from` to exactly `to` (its parent must exist, its name must be free).
   * A folder cannot move into itself or anything under it.
   */
  async move(from: string, to: string): Promise<NodeInfo> {
    const source = parsePath(from);
    const target = parsePath(to);
    if (source.length === 0) throw new PennError('BAD_REQUEST', 'the root folder cannot be moved', { reason: 'ROOT' });
    if (target.length === 0) throw new PennError('CONFLICT', '/ already exists', { reason: 'NAME_TAKEN' });
    const { node, parent } = await this.tree.resolve(source);
    const folder = await this.tree.resolveFolder(target.slice(0, -1));
    const name = target[target.length - 1]!;
    if (parent!.id === folder.id && node.name === name) return info(node, target);
    if (node.type === 'folder' && (await this.tree.ancestry(folder.id)).includes(node.id)) {
      throw new PennError('CONFLICT', `cannot move ${formatPath(source)} into itself or a folder under it`, { reason: 'MOVE_INTO_ITSELF' });
    }
    // A new name is searchable before the node takes it; the old name's terms go after.
    const renamed = node.name !== name;
    const newTerms = nodeTerms({ type: node.type, name });
    if (renamed) await this.tree.ctx.names?.add(newTerms, node.id);
    const after = await relinkNode(this.tree, node, { folder, name, sourceLabel: formatPath(source), targetLabel: formatPath(target) });
    if (renamed) await this.tree.ctx.names?.remove([...nodeTerms(node)].filter((t) => !newTerms.has(t)), node.id);
    return info(after, target);
  }

  /** Deletes a file, or a folder (one with entries only with `recursive`). */
  async remove(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    const names = parsePath(path);
    if (names.length === 0) throw new PennError('BAD_REQUEST', 'the root folder cannot be deleted', { reason: 'ROOT' });
    const { node, parent } = await this.tree.resolve(names);
    if (node.type === 'folder' && !options.recursive) {
      const page = await listFolder(this.tree, node, null, EMPTY_CHECK_ENTRIES);
      if (page.entries.length > 0 || page.nextCursor !== null) {
        throw new PennError('CONFLICT', `${formatPath(names)} is not empty; delete it with recursive=1`, { reason: 'NOT_EMPTY' });
      }
    }
    if (!await removeNode(this.tree, node.id, parent!.id)) {
      throw new PennError('NOT_FOUND', `no such file or folder: ${formatPath(names)}`, { reason: 'NO_SUCH_PATH' });
    }
  }

  /** Creates folder `names` in `parent`, or finds what holds the name. */
  private async makeFolder(parent: NodeRecord, names: string[]): Promise<{ node: NodeRecord; created: boolean }> {
    const { kv, volume, now } = this.tree.ctx;
    const name = names[names.length - 1]!;
    const existing = await this.tree.child(parent.id, name);
    if (existing !== null) return { node: existing, created: false };
    const nowMs = now();
    const node: NodeRecord = {
      id: newNodeId(volume, formatPath(names)), type: 'folder', name, parentId: parent.id,
      createdMs: nowMs, modifiedMs: nowMs, size: 0, contentId: '', chunkBytes: 0,
    };
    const row = nodeRow(volume, node.id);
    await this.tree.ctx.names?.add(nodeTerms(node), node.id);
    await kv.cput(row, META_COLUMN, null, encodeNode(node));
    const claim = await this.tree.claim(parent.id, name, { id: node.id, type: 'folder' });
    if (!claim.ok) {
      await kv.delete(row, META_COLUMN);
      if (!claim.settled) throw nameBusyAt(names);
      return { node: claim.existing, created: false };
    }
    if (!await this.tree.folderLives(parent.id)) {
      await removeNode(this.tree, node.id, parent.id);
      throw parentGone(names);
    }
    return { node, created: true };
  }

  /** Links new content at `names` in `parentId`: a new file, or a switch of the existing one. */
  private async commitFile(parentId: string, names: string[], content: WrittenContent): Promise<Committed> {
    const { kv, volume, now } = this.tree.ctx;
    const name = names[names.length - 1]!;
    for (let round = 0; round < COMMIT_ROUNDS_MAX; round++) {
      const existing = await this.tree.child(parentId, name);
      if (existing !== null) {
        if (existing.type === 'folder') throw isAFolder(names);
        const switched = await casUpdate<{ before: NodeRecord; after: NodeRecord } | null>(kv, nodeRow(volume, existing.id), META_COLUMN, (current) => {
          const before = current === null ? null : decodeLive(current);
          // Gone, or renamed or moved away since it was found: look again.
          if (before === null || before.parentId !== parentId || before.name !== name) return { skip: true, result: null };
          const after: NodeRecord = { ...before, size: content.size, contentId: content.contentId, chunkBytes: content.chunkBytes, modifiedMs: now() };
          return { next: encodeNode(after), result: { before, after } };
        });
        if (switched === null) continue;
        return { node: switched.after, created: false, displaced: switched.before };
      }
      const nowMs = now();
      const node: NodeRecord = {
        id: newNodeId(volume, formatPath(names)), type: 'file', name, parentId,
        createdMs: nowMs, modifiedMs: nowMs, size: content.size, contentId: content.contentId, chunkBytes: content.chunkBytes,
      };
      const row = nodeRow(volume, node.id);
      await this.tree.ctx.names?.add(nodeTerms(node), node.id);
      await kv.cput(row, META_COLUMN, null, encodeNode(node));
      const claim = await this.tree.claim(parentId, name, { id: node.id, type: 'file' });
      if (claim.ok) {
        if (!await this.tree.folderLives(parentId)) {
          await removeNode(this.tree, node.id, parentId);
          return 'parent-gone';
        }
        return { node, created: true, displaced: null };
      }
      await kv.delete(row, META_COLUMN);
      if (!claim.settled) throw nameBusyAt(names);
    }
    throw new PennError('UNAVAILABLE', `${formatPath(names)} kept changing while the upload was committed`, { reason: 'CONTENTION' });
  }
}

/** A file opened for reading: its description, and its bytes `start`..`end` (inclusive). */
export interface OpenedFile {
  node: NodeInfo;
  read: (start: number, end: number) => Readable;
}

/** Reads below one folder (or of one file) of a volume, by paths relative to it. */
export class ReadOnlyTree {
  constructor(private readonly tree: VolumeTree, readonly base: NodeRecord) {}

  /** The node at `path` ("/" is the base itself, named as the base is). */
  async stat(path: string): Promise<NodeInfo> {
    const names = parsePath(path);
    const { node } = await this.tree.resolve(names, this.base);
    return info(node, names);
  }

  /** A page of a folder's entries by name, after `cursor` (a name) if given. */
  async list(path: string, options: { cursor?: string | null; limit?: number } = {}): Promise<FolderPage<NodeInfo>> {
    const names = parsePath(path);
    const folder = await this.tree.resolveFolder(names, this.base);
    const page = await listFolder(this.tree, folder, options.cursor ?? null, options.limit ?? LIST_PAGE_ENTRIES_MAX);
    return { ...page, entries: page.entries.map((n) => info(n, [...names, n.name])) };
  }

  /**
   * The file at `path`: its description, and `read(start, end)` giving its bytes `start`..`end`
   * (inclusive) as a stream of the content it had when opened. Callers check the range
   * against `node.size`.
   */
  async openFile(path: string): Promise<OpenedFile> {
    const names = parsePath(path);
    const { node } = await this.tree.resolve(names, this.base);
    if (node.type !== 'file') throw isAFolder(names);
    return {
      node: info(node, names),
      read: (start, end) => readContent(this.tree.ctx.kv, { contentId: node.contentId, size: node.size, chunkBytes: node.chunkBytes, start, end }, this.tree.ctx.transferBudget),
    };
  }
}

function decodeLive(bytes: Buffer): NodeRecord | null {
  return decodeNode(bytes);
}

function info(node: NodeRecord, names: readonly string[]): NodeInfo {
  return {
    id: node.id, type: node.type, name: node.name, path: formatPath(names),
    size: node.size, createdMs: node.createdMs, modifiedMs: node.modifiedMs,
  };
}

function isAFolder(names: readonly string[]): PennError {
  return new PennError('CONFLICT', `${formatPath(names)} is a folder`, { reason: 'IS_A_FOLDER' });
}

function parentGone(names: readonly string[]): PennError {
  return new PennError('NOT_FOUND', `the folder of ${formatPath(names)} was deleted meanwhile`, { reason: 'NO_SUCH_PATH' });
}

function nameBusyAt(names: readonly string[]): PennError {
  return nameBusy(formatPath(names));
}
