/**
 * The manifest: which tablets this node holds (id and key range), so that splits survive a
 * restart. Rewritten atomically (temp, fsync, rename, fsync dir) on every split or change of
 * ownership; carries a CRC-32 of its body so a damaged file is refused, not trusted.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileDurable } from './durable-files.js';

export const MANIFEST_FILE = 'manifest.json';
const MANIFEST_VERSION = 1;

export interface ManifestTablet {
  id: number;
  start: string;
  end: string | null;
}

/**
 * Where a snapshot from the primary replaced this node's data (snapshot-install.ts): the log
 * restarted after `seq`, whose record was written in `view`. The tablets' checkpoints may
 * reflect records up to `coveredSeq` (all committed) before the log holds them.
 */
export interface ManifestSnapshot {
  seq: number;
  view: number;
  coveredSeq: number;
  /** The file id of the recent-origins table that came with it (`origins-<id>.snap`). */
  originsId: number;
}

export interface Manifest {
  nodeId: number;
  nextTabletId: number;
  tablets: ManifestTablet[];
  /** Set once a snapshot was installed; kept (the origins file and the log start depend on it). */
  snapshot?: ManifestSnapshot;
  /**
   * Log segments of the data a snapshot replaced: deleted at start-up (and then this list),
   * so a crash in the middle of the switch never lets the old log be replayed over the new data.
   */
  retiredSegments?: string[];
}

/** The checkpoint file of a tablet id. */
export function checkpointFileName(id: number): string {
  return `tablet-${id}.ckpt`;
}

/** The recent-origins file that came with a snapshot. */
export function originsFileName(id: number): string {
  return `origins-${id}.snap`;
}

/** Reads the manifest of `dir`; null when there is none yet. Throws naming the file if bad. */
export async function readManifest(dir: string): Promise<Manifest | null> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const bad = (why: string): never => {
    throw new Error(`manifest ${file} is damaged (${why}); refusing to start`);
  };
  let parsed: { version?: unknown; crc32?: unknown; body?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return bad('not valid JSON');
  }
  if (parsed.version !== MANIFEST_VERSION) bad(`version ${String(parsed.version)}`);
  const bodyText = JSON.stringify(parsed.body);
  if (crc32(Buffer.from(bodyText, 'utf8')) !== parsed.crc32) bad('checksum mismatch');
  const body = parsed.body as Manifest;
  if (!Array.isArray(body.tablets) || body.tablets.length === 0) bad('no tablets');
  const snapshot = body.snapshot;
  if (snapshot !== undefined && !(Number.isSafeInteger(snapshot.seq) && Number.isSafeInteger(snapshot.view)
    && Number.isSafeInteger(snapshot.originsId) && Number.isSafeInteger(snapshot.coveredSeq) && snapshot.coveredSeq >= snapshot.seq)) {
    bad('bad snapshot point');
  }
  if (body.retiredSegments !== undefined && !Array.isArray(body.retiredSegments)) bad('bad retired segment list');
  return body;
}

/** Writes the manifest durably. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const bodyText = JSON.stringify(manifest);
  const text = JSON.stringify({
    version: MANIFEST_VERSION,
    crc32: crc32(Buffer.from(bodyText, 'utf8')),
    body: manifest,
  });
  await writeFileDurable(join(dir, MANIFEST_FILE), [Buffer.from(text + '\n', 'utf8')]);
}
