/**
 * What "download as zip" puts in the archive: the chosen files, and each chosen folder with
 * everything under it (its path in the archive starts at the folder's name), read a page at a
 * time. Each file's bytes are read only when the archive reaches it, through the same chunked
 * reads as a download, so memory stays flat whatever the archive's size.
 */
import { PennError } from '../protocol/errors.js';
import { LIST_PAGE_ENTRIES_MAX, type NodeInfo, type Volume } from './storage-service.js';
import { ZIP_ENTRIES_MAX, type ZipEntry } from './zip-writer.js';

/** Paths one request may name (each may be a folder of many files). */
export const ARCHIVE_PATHS_MAX = 1_000;
/** Pages of one folder read before giving up (a folder growing faster than it is read). */
const FOLDER_PAGES_MAX = 1_000;

/** The archive entries for `paths` of `volume`; TOO_LARGE past ZIP_ENTRIES_MAX. */
export async function archiveEntries(volume: Volume, paths: readonly string[]): Promise<ZipEntry[]> {
  if (paths.length === 0) throw new PennError('BAD_REQUEST', 'name the files and folders to download with ?path=... (one per path)', { reason: 'BAD_PATH' });
  if (paths.length > ARCHIVE_PATHS_MAX) throw new PennError('TOO_LARGE', `at most ${ARCHIVE_PATHS_MAX} paths per archive`, { reason: 'TOO_MANY_ENTRIES' });
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  const add = (node: NodeInfo, name: string): void => {
    if (entries.length >= ZIP_ENTRIES_MAX) {
      throw new PennError('TOO_LARGE', `an archive holds at most ${ZIP_ENTRIES_MAX} files and folders; download fewer at once`, { reason: 'TOO_MANY_ENTRIES' });
    }
    // Two chosen items of one name (from different folders) would collide: the later one is renamed.
    let unique = name;
    for (let n = 2; names.has(unique); n++) unique = node.type === 'folder' ? `${name.slice(0, -1)} (${n})/` : withNumber(name, n);
    names.add(unique);
    entries.push({
      name: unique, size: node.type === 'folder' ? 0 : node.size, modifiedMs: node.modifiedMs,
      open: () => openBytes(volume, node),
    });
  };
  for (const path of paths) {
    const node = await volume.stat(path);
    if (node.path === '/') throw new PennError('BAD_REQUEST', 'choose files and folders in the drive, not the whole drive', { reason: 'ROOT' });
    if (node.type === 'file') add(node, node.name);
    else await addFolder(volume, node, `${node.name}/`, add);
  }
  return entries;
}

async function addFolder(volume: Volume, folder: NodeInfo, prefix: string, add: (node: NodeInfo, name: string) => void): Promise<void> {
  add(folder, prefix);
  let cursor: string | null = null;
  for (let page = 0; page < FOLDER_PAGES_MAX; page++) {
    const listing = await volume.list(folder.path, { cursor, limit: LIST_PAGE_ENTRIES_MAX });
    for (const child of listing.entries) {
      if (child.type === 'file') add(child, prefix + child.name);
      else await addFolder(volume, child, `${prefix}${child.name}/`, add);
    }
    if (listing.nextCursor === null) return;
    cursor = listing.nextCursor;
  }
  throw new PennError('UNAVAILABLE', `${folder.path} kept growing while it was read`, { reason: 'CONTENTION' });
}

async function* openBytes(volume: Volume, node: NodeInfo): AsyncIterable<Uint8Array> {
  const file = await volume.openFile(node.path);
  // A file replaced since it was listed has other bytes: the archive would not match its header.
  if (file.node.size !== node.size) throw new PennError('UNAVAILABLE', `${node.path} changed while the archive was being written`, { reason: 'CONTENTION' });
  if (node.size === 0) return;
  yield* file.read(0, node.size - 1);
}

function withNumber(name: string, n: number): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return dot > slash + 1 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}
