/** Reads a tablet back from its checkpoint file, checking it is the tablet the slot expects. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointCorruptError, decodeCheckpoint, verifyCheckpointBytes, type CheckpointHeader } from './checkpoint-codec.js';
import { checkpointFileName } from './manifest.js';
import type { Tablet, TabletRange } from './tablet.js';

/** A checkpoint that cannot be used; the message names the file. */
export class CheckpointFileError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`checkpoint ${file} is unusable: ${problem}`);
    this.name = 'CheckpointFileError';
  }
}

function checkRange(file: string, header: CheckpointHeader, range: TabletRange): void {
  if (header.start !== range.start || header.end !== range.end) {
    throw new CheckpointFileError(file, `it holds [${JSON.stringify(header.start)}, ${JSON.stringify(header.end)}) `
      + `but the manifest says [${JSON.stringify(range.start)}, ${JSON.stringify(range.end)})`);
  }
}

async function readCheckpointFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointFileError(file, code === 'ENOENT' ? 'the file is missing' : (err as Error).message);
  }
}

/**
 * Verifies a checkpoint file (magic, checksum, cells, range); returns its header and, per log
 * segment, the bytes of the values it keeps there.
 */
export async function verifyCheckpoint(
  dir: string, id: number, range: TabletRange,
): Promise<{ header: CheckpointHeader; loggedBytes: Map<number, number> }> {
  const file = join(dir, checkpointFileName(id));
  const bytes = await readCheckpointFile(file);
  try {
    const verified = verifyCheckpointBytes(bytes);
    checkRange(file, verified.header, range);
    return verified;
  } catch (err) {
    if (err instanceof CheckpointCorruptError) throw new CheckpointFileError(file, err.message);
    throw err;
  }
}

/** Loads the tablet of a slot from its checkpoint file. */
export async function loadSlotTablet(dir: string, slot: TabletRange & { id: number }): Promise<Tablet> {
  const file = join(dir, checkpointFileName(slot.id));
  const bytes = await readCheckpointFile(file);
  try {
    const { header, tablet } = decodeCheckpoint(bytes);
    checkRange(file, header, slot);
    return tablet;
  } catch (err) {
    if (err instanceof CheckpointCorruptError) throw new CheckpointFileError(file, err.message);
    throw err;
  }
}
