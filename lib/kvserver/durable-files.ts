/**
 * File operations with the durability the store promises: a file written whole under a
 * temporary name, fsynced, renamed into place and its directory fsynced, so a crash leaves
 * either the old file or the new one, never a mix.
 */
import { writev, writevSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Suffix of files being written; one left at start-up is a crash mid-write and is removed. */
export const TEMP_SUFFIX = '.tmp';

/** Fsyncs a directory so that names created, renamed or removed in it are durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `parts` to `file` atomically and durably (temp file, fsync, rename, fsync dir). */
export async function writeFileDurable(file: string, parts: readonly Buffer[]): Promise<void> {
  const temp = join(dirname(file), `${basename(file)}${TEMP_SUFFIX}`);
  const handle = await open(temp, 'w');
  try {
    await writeAll(handle.fd, parts);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(temp, file);
  await fsyncDirectory(dirname(file));
}

/** Buffers handed to one writev call (below the usual IOV_MAX of 1024). */
const WRITEV_BUFFERS_MAX = 512;

/**
 * Writes every byte of `parts`, looping over short writes: at `position`, or at the file's
 * current position when it is null.
 */
export async function writeAll(fd: number, parts: readonly Buffer[], position: number | null = null): Promise<void> {
  let pending = parts.filter((p) => p.length > 0);
  let at = position;
  while (pending.length > 0) {
    const written = await new Promise<number>((resolve, reject) => {
      writev(fd, pending.slice(0, WRITEV_BUFFERS_MAX), at, (err, n) => (err ? reject(err) : resolve(n)));
    });
    if (at !== null) at += written;
    pending = dropWritten(pending, written);
  }
}

/** writeAll on this thread: returns once every byte is written (for O_DSYNC, durable). */
export function writeAllSync(fd: number, parts: readonly Buffer[], position: number): void {
  let pending = parts.filter((p) => p.length > 0);
  let at = position;
  while (pending.length > 0) {
    const written = writevSync(fd, pending.slice(0, WRITEV_BUFFERS_MAX), at);
    at += written;
    pending = dropWritten(pending, written);
  }
}

function dropWritten(parts: Buffer[], written: number): Buffer[] {
  let left = written;
  let i = 0;
  while (i < parts.length && left >= parts[i]!.length) left -= parts[i++]!.length;
  const rest = parts.slice(i);
  if (left > 0) rest[0] = rest[0]!.subarray(left);
  return rest;
}
