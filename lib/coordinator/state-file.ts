/**
 * The coordinator's state on disk: `<dataDir>/coordinator/state.json`, holding the views, the
 * tablet map and the disabled nodes with a SHA-256 of them. Written whole (temp file, fsync,
 * rename, fsync dir) before any view it holds is announced; a file whose checksum fails stops
 * the coordinator with a message naming it, rather than let it hand out wrong views.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurable } from '../kvserver/durable-files.js';
import type { PersistedCoordinator } from './coordinator-core.js';

export const STATE_FILE_NAME = 'state.json';

export class CorruptStateError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`coordinator state ${file} is unusable: ${problem}; refusing to start (restore it or remove it to start a new cloud)`);
    this.name = 'CorruptStateError';
  }
}

function digest(state: PersistedCoordinator): string {
  return createHash('sha256').update(JSON.stringify(state)).digest('hex');
}

export class StateFile {
  readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, STATE_FILE_NAME);
  }

  /** The saved state, or null for a new cloud. Throws CorruptStateError. */
  load(groupCount: number): PersistedCoordinator | null {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let parsed: { sha256?: unknown; state?: PersistedCoordinator };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new CorruptStateError(this.file, 'not JSON');
    }
    if (parsed.state === undefined || parsed.sha256 !== digest(parsed.state)) throw new CorruptStateError(this.file, 'checksum mismatch');
    if (parsed.state.groups.length !== groupCount) {
      throw new CorruptStateError(this.file, `it has ${parsed.state.groups.length} groups, the configuration ${groupCount}`);
    }
    return parsed.state;
  }

  async save(state: PersistedCoordinator): Promise<void> {
    const body = JSON.stringify({ sha256: digest(state), state }, null, 1);
    await writeFileDurable(this.file, [Buffer.from(body + '\n')]);
  }
}
