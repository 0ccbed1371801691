/**
 * The cluster secret: 32 random bytes, written as 64 hex digits in one file, that every role
 * proves it knows before it is served on an internal port (lib/protocol/peer-auth.ts) and with
 * which frontends sign their heartbeats. Where it is read, first found wins:
 *
 *   --secret-file FILE   on the command line
 *   "secretFile"         in the configuration
 *   <data dir>/cluster.secret
 *
 * Only the last is made when missing (by `penncloud up` or by the first role started on that data
 * directory): roles of one host share a data directory and so a secret. Roles on other hosts are
 * given a copy of the file; a named file that is missing is an error, never replaced. A file
 * readable by group or others is refused, as ssh refuses such a key.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLUSTER_SECRET_BYTES_MIN } from '../protocol/peer-auth.js';

/** The secret's file name inside a data directory. */
export const CLUSTER_SECRET_FILE = 'cluster.secret';

/** A secret that cannot be used; the message says which file and what to do. */
export class ClusterSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterSecretError';
  }
}

/** Where a role's secret is: the named file, or the data directory's. */
export function clusterSecretPath(named: string | null, dataDir: string): { path: string; named: boolean } {
  return named !== null ? { path: resolve(named), named: true } : { path: join(dataDir, CLUSTER_SECRET_FILE), named: false };
}

/**
 * Reads the secret at `path`; when it is missing and `create` is set, makes one first. Creation is
 * safe against roles starting at once: each writes its own candidate and links it into place, and
 * whoever loses the race reads the winner's.
 */
export function loadClusterSecret(path: string, create: boolean): Buffer {
  if (create) {
    try {
      statSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      createSecretFile(path);
    }
  }
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'latin1');
  } catch (err) {
    throw new ClusterSecretError(`cluster secret ${path} cannot be read: ${(err as Error).message}`
      + ' (copy the cluster.secret of the host that ran `penncloud up`, or make one with `openssl rand -hex 32`)');
  }
  if ((mode & 0o077) !== 0) {
    throw new ClusterSecretError(`cluster secret ${path} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length % 2 !== 0 || hex.length < CLUSTER_SECRET_BYTES_MIN * 2) {
    throw new ClusterSecretError(`cluster secret ${path} must hold at least ${CLUSTER_SECRET_BYTES_MIN * 2} hex digits and nothing else`);
  }
  return Buffer.from(hex, 'hex');
}

function createSecretFile(path: string): void {
  const candidate = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(candidate, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(CLUSTER_SECRET_BYTES_MIN).toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(candidate, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(candidate);
  }
  const dirFd = openSync(resolve(path, '..'), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
