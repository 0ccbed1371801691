/**
 * What the file tree keeps in the store. Each node (file or folder) of a volume has a row,
 * `<spread>:node:<volume>/<id>`, with:
 *   - `meta`: the node record (JSON): type, name, parent id, times; for a file its size and
 *     the content id whose chunks hold its bytes;
 *   - `child:<name>` (folders only): a link `{id, type}` to each child, one column per name,
 *     so adding a child is a create-if-absent CPUT of its own cell and concurrent changes to
 *     one folder never overwrite each other.
 * A node id is a hash of the volume, the path at creation and a random nonce, fixed for the
 * node's life across renames and moves. The root folder's id is a hash of the volume alone and
 * has no `meta` cell.
 * A node is deleted by first replacing its record with a tombstone (a CPUT, so exactly one
 * deleter or replacer wins and reclaims the content it displaced), then deleting the cell.
 */
import { createHash, randomBytes } from 'node:crypto';
import { decodeRecord, encodeRecord } from './json-record.js';
import { rowKey } from './row-keys.js';

/** What a node is. */
export type NodeType = 'file' | 'folder';

/** A live node record. */
export interface NodeRecord {
  id: string;
  type: NodeType;
  name: string;
  /** The folder it is in; null only for the root. */
  parentId: string | null;
  createdMs: number;
  modifiedMs: number;
  /** File bytes (0 for folders). */
  size: number;
  /** Files: the id of the chunk set holding the bytes; folders: "". */
  contentId: string;
  /** Files: the chunk size the content was written with. */
  chunkBytes: number;
  /** Set while the node is in the volume's trash (directly: not on nodes inside a trashed folder). */
  trashed?: TrashMark;
}

/** Where a node in the trash came from, and when it was put there. */
export interface TrashMark {
  /** Its path when it was deleted. */
  path: string;
  deletedMs: number;
}

/** What a deleted node's cell holds until the deleter removes it. */
interface Tombstone {
  id: string;
  deleted: true;
}

/** A folder's entry for one child. */
export interface ChildLink {
  id: string;
  type: NodeType;
  /** When the entry was made (tells a move in progress from one cut short; see volume-tree.ts). */
  linkedMs: number;
}

/** The column of a node's record, and the prefix of its folder entries' columns. */
export const META_COLUMN = 'meta';
export const CHILD_PREFIX = 'child:';

/** The row of node `id` of `volume`. */
export function nodeRow(volume: string, id: string): string {
  return rowKey('node', `${volume}/${id}`);
}

/** The id of a volume's root folder. */
export function rootId(volume: string): string {
  return createHash('sha256').update(volume).update('\0/').digest('hex').slice(0, 32);
}

/** A fresh node id: a hash of where it is created, made unique by a random nonce. */
export function newNodeId(volume: string, path: string): string {
  return createHash('sha256').update(volume).update('\0').update(path).update('\0').update(randomBytes(16)).digest('hex').slice(0, 32);
}

/**
 * The id of a volume's trash: a second root, not reachable by any path, whose entries are the
 * nodes deleted to the trash (named by deletion time, so they list oldest first).
 */
export function trashId(volume: string): string {
  return createHash('sha256').update(volume).update('\0trash').digest('hex').slice(0, 32);
}

/** The synthetic record of a volume's trash folder. */
export function trashRecord(volume: string): NodeRecord {
  return { id: trashId(volume), type: 'folder', name: '', parentId: null, createdMs: 0, modifiedMs: 0, size: 0, contentId: '', chunkBytes: 0 };
}

/** The synthetic record of a root folder. */
export function rootRecord(volume: string): NodeRecord {
  return { id: rootId(volume), type: 'folder', name: '', parentId: null, createdMs: 0, modifiedMs: 0, size: 0, contentId: '', chunkBytes: 0 };
}

/** A node record as stored. */
export function encodeNode(node: NodeRecord): Buffer {
  return encodeRecord(node);
}

/** The record that marks node `id` as being deleted. */
export function encodeTombstone(id: string): Buffer {
  const tombstone: Tombstone = { id, deleted: true };
  return encodeRecord(tombstone);
}

/** A node record, or null for a tombstone. */
export function decodeNode(bytes: Buffer): NodeRecord | null {
  const value = decodeRecord<NodeRecord | Tombstone>(bytes, 'node record', (v) => typeof v.id === 'string'
    && (v.deleted === true || ((v.type === 'file' || v.type === 'folder') && typeof v.name === 'string'
      && Number.isSafeInteger(v.size) && typeof v.contentId === 'string')));
  return 'deleted' in value ? null : value;
}

/** A folder entry as stored. */
export function encodeLink(link: ChildLink): Buffer {
  return encodeRecord(link);
}

/** A folder entry, checked. */
export function decodeLink(bytes: Buffer): ChildLink {
  return decodeRecord<ChildLink>(bytes, 'folder entry', (v) => typeof v.id === 'string' && (v.type === 'file' || v.type === 'folder')
    && Number.isSafeInteger(v.linkedMs));
}

/** The column of child `name` in its folder's row. */
export function childColumn(name: string): string {
  return CHILD_PREFIX + name;
}
