/** What every role reads from its command line before it starts: configuration and data dir. */
import { resolve } from 'node:path';
import { chmodSync, mkdirSync } from 'node:fs';
import { loadConfig, type PennConfig } from '../../conf/config.js';
import { clusterSecretPath, loadClusterSecret } from './cluster-secret.js';
import { stringOption, type ParsedArgs } from './command.js';

export const DEFAULT_CONF_FILE = 'conf/local.json';
export const DEFAULT_DATA_DIR = './data';

export interface RoleContext {
  config: PennConfig;
  confFile: string;
  /** Absolute data directory, created if missing, open to this user only. */
  dataDir: string;
  /** The cluster secret (cluster-secret.ts): what proves this role on internal ports. */
  secret: Buffer;
}

/**
 * Loads and validates the configuration and the cluster secret; a ConfigError or
 * ClusterSecretError propagates to main (exit 1). Files and directories a role makes are its
 * user's alone (umask 077): the store's files hold password hashes and sessions.
 */
export function loadRoleContext(args: ParsedArgs): RoleContext {
  process.umask(0o077);
  const confFile = resolve(stringOption(args, 'conf', DEFAULT_CONF_FILE));
  const dataDir = resolve(stringOption(args, 'data', DEFAULT_DATA_DIR));
  const config = loadConfig(confFile);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const named = args.options.get('secret-file');
  const where = clusterSecretPath(typeof named === 'string' ? named : config.secretFile, dataDir);
  const secret = loadClusterSecret(where.path, !where.named);
  return { config, confFile, dataDir, secret };
}

/**
 * The readiness signal of a role: one line `READY <name> <detail>` on stdout. Supervisors and
 * tests wait for it rather than sleeping.
 */
export function announceReady(name: string, detail: string): void {
  process.stdout.write(`READY ${name} ${detail}\n`);
}

/** Runs `stop` once on SIGINT or SIGTERM, then exits; a second signal exits at once. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown after ${signal} failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // Started by `penncloud up`: its end (even by SIGKILL) closes our stdin, and we stop too,
  // rather than live on as an orphan holding ports and data.
  if (process.env[SUPERVISED_ENV] === '1') {
    process.stdin.on('end', () => handler('SIGTERM'));
    process.stdin.on('error', () => handler('SIGTERM'));
    process.stdin.resume();
  }
}

/** Set by the supervisor in each child's environment; the child then watches its stdin. */
export const SUPERVISED_ENV = 'PENNCLOUD_SUPERVISED';
