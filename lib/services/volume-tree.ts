/**
 * The tree of one volume as stored (see fs-records.ts): reading nodes and folder entries,
 * resolving paths, claiming a name in a folder, and checking that a folder still lives. The
 * operations built on these (storage-service.ts) keep one order everywhere: link a node under
 * its new name before unlinking the old one, so an entry is never lost, only briefly seen twice.
 */
import { PennError } from '../protocol/errors.js';
import { formatPath, PATH_DEPTH_MAX } from './drive-path.js';
import {
  childColumn, decodeLink, decodeNode, encodeLink, META_COLUMN, nodeRow, rootId, rootRecord, trashRecord,
  type NodeRecord, type NodeType,
} from './fs-records.js';
import type { KvTable } from './kv-table.js';
import type { QuotaLedger } from './quota-ledger.js';
import type { TermIndex } from './term-index.js';
import type { TransferBudget } from './transfer-budget.js';

/** Rounds of claiming a name when stale entries keep getting in the way. */
export const CLAIM_ROUNDS_MAX = 4;
/**
 * Age past which an entry whose node lives elsewhere is a leftover, not a move in progress (a
 * move links, updates the record and unlinks within a few store round trips). A move that
 * stalls longer finds its entry taken and steps back (storage-service.ts), so nothing is lost.
 */
export const MOVE_SETTLE_MS = 60_000;

/** Everything the operations on one volume share. */
export interface VolumeContext {
  kv: KvTable;
  volume: string;
  ledger: QuotaLedger;
  chunkBytes: number;
  /** Silence after which an upload of this volume is reclaimed. */
  uploadStaleMs: number;
  /** The frontend's chunk bytes for transfers, shared by every volume. */
  transferBudget: TransferBudget;
  /** The names of the volume's nodes, for search (drive-search.ts). */
  names: TermIndex | null;
  now: () => number;
}

/** A node found by path, with its folder (null for the root). */
export interface Resolved {
  node: NodeRecord;
  parent: NodeRecord | null;
}

/**
 * The outcome of claiming a name: done, or held by `existing`; `settled` is false while the
 * holder is still on its way in (a move between linking and updating its record).
 */
export type ClaimResult = { ok: true } | { ok: false; existing: NodeRecord; settled: boolean };

/** Reads and links of one volume's tree; the building blocks of the Volume operations. */
export class VolumeTree {
  readonly root: NodeRecord;
  /** The folder of deleted nodes: a second root that no path reaches (see fs-records.ts). */
  readonly trash: NodeRecord;

  constructor(readonly ctx: VolumeContext) {
    this.root = rootRecord(ctx.volume);
    this.trash = trashRecord(ctx.volume);
  }

  /** The live record of node `id` (the root's and the trash's are synthetic), or null. */
  async node(id: string): Promise<NodeRecord | null> {
    if (id === this.root.id) return this.root;
    if (id === this.trash.id) return this.trash;
    const bytes = await this.ctx.kv.get(nodeRow(this.ctx.volume, id), META_COLUMN);
    return bytes === null ? null : decodeNode(bytes);
  }

  /**
   * The live child `name` of folder `folderId`, or null. An entry whose node is gone or now
   * lives elsewhere (a delete or move in progress, or one cut short) does not count.
   */
  async child(folderId: string, name: string): Promise<NodeRecord | null> {
    const bytes = await this.ctx.kv.get(nodeRow(this.ctx.volume, folderId), childColumn(name));
    if (bytes === null) return null;
    const node = await this.node(decodeLink(bytes).id);
    return node !== null && node.parentId === folderId && node.name === name ? node : null;
  }

  /** Resolves a path (below `from`, the root unless given); NOT_FOUND names the first part that does not exist. */
  async resolve(names: readonly string[], from: NodeRecord = this.root): Promise<Resolved> {
    let node = from;
    let parent: NodeRecord | null = null;
    for (let i = 0; i < names.length; i++) {
      if (node.type !== 'folder') throw notAFolder(names.slice(0, i));
      const next = await this.child(node.id, names[i]!);
      if (next === null) throw new PennError('NOT_FOUND', `no such file or folder: ${formatPath(names.slice(0, i + 1))}`, { reason: 'NO_SUCH_PATH' });
      parent = node;
      node = next;
    }
    return { node, parent };
  }

  /** Resolves a path that must be a folder. */
  async resolveFolder(names: readonly string[], from: NodeRecord = this.root): Promise<NodeRecord> {
    const { node } = await this.resolve(names, from);
    if (node.type !== 'folder') throw notAFolder(names);
    return node;
  }

  /**
   * Enters node `id` under `name` in folder `folderId` if no node holds the name: a
   * create-if-absent CPUT, or a CPUT over a stale entry (its node deleted, or living elsewhere
   * for longer than MOVE_SETTLE_MS). Otherwise returns the node that holds it.
   */
  async claim(folderId: string, name: string, target: { id: string; type: NodeType }): Promise<ClaimResult> {
    const row = nodeRow(this.ctx.volume, folderId);
    const column = childColumn(name);
    let expected: Buffer | null = null;
    for (let round = 0; round < CLAIM_ROUNDS_MAX; round++) {
      const nowMs = this.ctx.now();
      const outcome = await this.ctx.kv.cput(row, column, expected, encodeLink({ ...target, linkedMs: nowMs }));
      if (outcome.ok) return { ok: true };
      if (outcome.current === null) {
        expected = null;
        continue;
      }
      // A node that lives elsewhere may be moving here right now (linked, record not yet
      // updated): its entry is only a leftover once it is older than any move takes.
      const entry = decodeLink(outcome.current);
      const holder = await this.node(entry.id);
      if (holder !== null) {
        const settled = holder.parentId === folderId && holder.name === name;
        if (settled || nowMs - entry.linkedMs < MOVE_SETTLE_MS) return { ok: false, existing: holder, settled };
      }
      expected = outcome.current;
    }
    throw new PennError('UNAVAILABLE', `the name "${name}" kept changing while it was being claimed`, { reason: 'CONTENTION' });
  }

  /** True when the entry `name` of folder `folderId` names node `id`. */
  async holds(folderId: string, name: string, id: string): Promise<boolean> {
    const bytes = await this.ctx.kv.get(nodeRow(this.ctx.volume, folderId), childColumn(name));
    return bytes !== null && decodeLink(bytes).id === id;
  }

  /** Removes the entry `name` of folder `folderId` if it still names node `id`. */
  async unlink(folderId: string, name: string, id: string): Promise<void> {
    const row = nodeRow(this.ctx.volume, folderId);
    const column = childColumn(name);
    const bytes = await this.ctx.kv.get(row, column);
    if (bytes !== null && decodeLink(bytes).id === id) await this.ctx.kv.delete(row, column);
  }

  /** True while folder `id` exists (not deleted, even partly). */
  async folderLives(id: string): Promise<boolean> {
    const node = await this.node(id);
    return node !== null && node.type === 'folder';
  }

  /**
   * Ids from folder `id` up to the root, the root included. Stops at the first id seen twice,
   * so a cycle (two racing moves, see storage-service.ts) shows as a repeat rather than a hang.
   */
  async ancestry(id: string): Promise<string[]> {
    const ids: string[] = [];
    let current: string | null = id;
    while (current !== null) {
      if (ids.length > PATH_DEPTH_MAX + 1) throw new PennError('INTERNAL', 'folder ancestry is deeper than the path limit');
      if (ids.includes(current)) break;
      ids.push(current);
      if (current === this.root.id || current === this.trash.id) break;
      const node = await this.node(current);
      if (node === null) throw new PennError('NOT_FOUND', 'a folder on the path was deleted meanwhile', { reason: 'NO_SUCH_PATH' });
      current = node.parentId;
    }
    return ids;
  }

  /** The root folder's id of this volume. */
  get rootId(): string {
    return rootId(this.ctx.volume);
  }
}

function notAFolder(names: readonly string[]): PennError {
  return new PennError('CONFLICT', `${formatPath(names)} is a file, not a folder`, { reason: 'NOT_A_FOLDER' });
}
