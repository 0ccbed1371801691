/**
 * Attachments of a webmail message on their way: each file part of the compose form is written
 * into `/staging` of the sender's mail volume as it arrives, read back by the composer as a
 * stream, and removed once the message is sent (or refused). A staged file left by a frontend
 * that died mid-send is removed by a later send of the same user, once STAGED_STALE_MS old.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { PennError } from '../protocol/errors.js';
import type { Volume } from './storage-service.js';

/** The folder of a user's mail volume where attachments wait while their message is sent. */
export const STAGING_FOLDER = '/staging';
/**
 * Age past which a staged attachment belongs to no send still running: far above the longest
 * send (the wait for a send slot plus the writes of one message).
 */
export const STAGED_STALE_MS = 60 * 60_000;
/** Staged files looked at for staleness per new attachment: the sweep stays a small, bounded cost. */
export const STAGED_SWEEP_ENTRIES_MAX = 16;

/** An attachment received into the store, waiting for its message to be composed. */
export interface StagedAttachment {
  path: string;
  size: number;
}

export class AttachmentStaging {
  constructor(private readonly volumeOf: (user: string) => Volume, private readonly now: () => number) {}

  /** Streams an attachment into the user's staging folder. Give it back with discard. */
  async stage(user: string, source: AsyncIterable<Uint8Array>): Promise<StagedAttachment> {
    const volume = this.volumeOf(user);
    await volume.createFolder(STAGING_FOLDER, { parents: true });
    await this.sweep(volume);
    const path = `${STAGING_FOLDER}/${randomBytes(12).toString('hex')}.part`;
    const { node } = await volume.writeFile(path, source, null);
    return { path, size: node.size };
  }

  /** A function opening a stream of a staged attachment's bytes, for the composer. */
  open(user: string, staged: StagedAttachment): () => Readable {
    return () => {
      const out = new PassThrough();
      this.volumeOf(user).openFile(staged.path).then(
        (file) => (file.node.size === 0 ? out.end() : file.read(0, file.node.size - 1).on('error', (err) => out.destroy(err)).pipe(out)),
        (err: unknown) => out.destroy(err as Error),
      );
      return out;
    };
  }

  /** Removes staged attachments (their message was sent, or will not be). */
  async discard(user: string, staged: readonly StagedAttachment[]): Promise<void> {
    const volume = this.volumeOf(user);
    for (const s of staged) await removeIfThere(volume, s.path);
  }

  /** Removes staged files older than STAGED_STALE_MS among the first few of the folder. */
  private async sweep(volume: Volume): Promise<void> {
    const page = await volume.list(STAGING_FOLDER, { limit: STAGED_SWEEP_ENTRIES_MAX });
    const cutoffMs = this.now() - STAGED_STALE_MS;
    for (const entry of page.entries) {
      if (entry.type === 'file' && entry.modifiedMs < cutoffMs) await removeIfThere(volume, entry.path);
    }
  }
}

async function removeIfThere(volume: Volume, path: string): Promise<void> {
  await volume.remove(path).catch((err: unknown) => {
    if (!(err instanceof PennError && err.code === 'NOT_FOUND')) throw err;
  });
}
