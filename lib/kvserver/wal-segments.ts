/**
 * WAL segment files: `wal-<first seq, 20 digits>.log`, each starting with an 8-byte magic.
 * Naming by first sequence number orders them and tells where a reader must start.
 */
import { readdir } from 'node:fs/promises';

export const WAL_MAGIC = Buffer.from('PNCWAL01', 'latin1');
const SEGMENT_PATTERN = /^wal-(\d{20})\.log$/;

export interface WalSegment {
  /** Sequence number of the first record this segment holds (or will hold). */
  firstSeq: number;
  file: string;
  /** Bytes in the file, magic included. */
  bytes: number;
}

export function segmentFileName(firstSeq: number): string {
  return `wal-${String(firstSeq).padStart(20, '0')}.log`;
}

/** Whether `name` is the name of a log segment file. */
export function isSegmentFileName(name: string): boolean {
  return SEGMENT_PATTERN.test(name);
}

/** The segment files of `dir` in order of first sequence number (sizes not yet known). */
export async function listSegmentFiles(dir: string): Promise<{ firstSeq: number; file: string }[]> {
  const names = await readdir(dir);
  const out: { firstSeq: number; file: string }[] = [];
  for (const name of names) {
    const m = SEGMENT_PATTERN.exec(name);
    if (m !== null) out.push({ firstSeq: Number(m[1]), file: name });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}
