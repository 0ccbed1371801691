/**
 * Moving a node to another folder or name: a rename or move in the drive, and putting a node
 * into the trash or back. The new entry is claimed first (so the name is the mover's), then
 * the node's record is switched to it with a CPUT, then the old entry goes. A node being moved
 * therefore has two entries for a moment, and the record says which one is real (see
 * folder-listing.ts). Every way this can race with another move, a delete or an upload ends
 * with the tree still a tree and the node in exactly one folder.
 */
import { PennError } from '../protocol/errors.js';
import { casUpdate } from './cas-update.js';
import { decodeNode, encodeNode, META_COLUMN, nodeRow, type NodeRecord } from './fs-records.js';
import { removeNode } from './node-removal.js';
import type { VolumeTree } from './volume-tree.js';

/** Where a node goes, and how to name the two places in errors. */
export interface RelinkPlan {
  folder: NodeRecord;
  name: string;
  /** The node's place now and its place to be, as a person would say them ("/a/b.txt"). */
  sourceLabel: string;
  targetLabel: string;
  /** Changes the record besides its place (the trash mark); applied to the record as read. */
  change?: (before: NodeRecord) => NodeRecord;
}

/** Links `node` at `plan.folder`/`plan.name` and unlinks it from where it was; the new record. */
export async function relinkNode(tree: VolumeTree, node: NodeRecord, plan: RelinkPlan): Promise<NodeRecord> {
  const { folder, name } = plan;
  const claim = await tree.claim(folder.id, name, { id: node.id, type: node.type });
  if (!claim.ok) throw new PennError('CONFLICT', `${plan.targetLabel} already exists`, { reason: 'NAME_TAKEN' });
  const { kv, volume, now } = tree.ctx;
  const moved = await casUpdate<{ before: NodeRecord; after: NodeRecord } | null>(kv, nodeRow(volume, node.id), META_COLUMN, (current) => {
    const before = current === null ? null : decodeNode(current);
    if (before === null) return { skip: true, result: null };
    const after: NodeRecord = { ...(plan.change ?? same)(before), parentId: folder.id, name, modifiedMs: now() };
    return { next: encodeNode(after), result: { before, after } };
  });
  if (moved === null) {
    await tree.unlink(folder.id, name, node.id);
    throw new PennError('NOT_FOUND', `${plan.sourceLabel} was deleted meanwhile`, { reason: 'NO_SUCH_PATH' });
  }
  if (!await tree.holds(folder.id, name, node.id)) {
    // The new entry was taken over as a leftover while this move stalled: step back.
    await undoRelink(tree, moved.after, moved.before);
    throw nameBusy(plan.targetLabel);
  }
  const cycle = node.type === 'folder' && await tree.ancestry(folder.id).then(
    (ids) => ids.includes(node.id),
    async (err: unknown) => {
      await undoRelink(tree, moved.after, moved.before);
      throw err;
    },
  );
  if (cycle) {
    // A racing move made the target a descendant after the caller's check (A into B while B
    // into A). This check reads after our own update, so of two such moves the later one
    // always sees both and steps back; the tree stays a tree.
    await undoRelink(tree, moved.after, moved.before);
    throw new PennError('CONFLICT', `cannot move ${plan.sourceLabel} into itself or a folder under it`, { reason: 'MOVE_INTO_ITSELF' });
  }
  await tree.unlink(moved.before.parentId!, moved.before.name, node.id);
  if (!await tree.folderLives(folder.id)) {
    await removeNode(tree, node.id, folder.id);
    throw new PennError('NOT_FOUND', `the folder of ${plan.targetLabel} was deleted meanwhile`, { reason: 'NO_SUCH_PATH' });
  }
  return moved.after;
}

/** The error of a name that another move or upload holds for the moment. */
export function nameBusy(label: string): PennError {
  return new PennError('CONFLICT', `${label} is being moved or created right now; try again`, { reason: 'NAME_BUSY' });
}

function same(node: NodeRecord): NodeRecord {
  return node;
}

/** Puts a moved node back where it was (its old entry is still in place) and drops the new entry. */
async function undoRelink(tree: VolumeTree, after: NodeRecord, before: NodeRecord): Promise<void> {
  const { kv, volume } = tree.ctx;
  await casUpdate(kv, nodeRow(volume, after.id), META_COLUMN, (current) => {
    const node = current === null ? null : decodeNode(current);
    if (node === null || node.parentId !== after.parentId || node.name !== after.name) return { skip: true, result: undefined };
    return { next: encodeNode({ ...node, parentId: before.parentId, name: before.name, trashed: before.trashed }), result: undefined };
  });
  await tree.unlink(after.parentId!, after.name, after.id);
}
