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

export interface Manifest {
  nodeId: number;
  nextTabletId: number;
  tablets: ManifestTablet[];
}

/** The checkpoint file of a tablet id. */
export function checkpointFileName(id: number): string {
  return `tablet-${id}.ckpt`;
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
