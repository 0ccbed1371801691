/**
 * The one way a storage node stops on a fault it cannot answer safely (a failed write or
 * snapshot, memory and log out of step with the primary): it logs why and exits at once with
 * FATAL_EXIT_CODE, so that no reply that might be wrong goes out, and its supervisor restarts it
 * on its data (recovery then replays the log).
 */
import type { Logger } from '../protocol/log.js';

/** The exit code of a fatal stop: EX_SOFTWARE of sysexits(3), an internal error. */
export const FATAL_EXIT_CODE = 70;

/** Logs `what` (with `err`) and exits the process with FATAL_EXIT_CODE. */
export function stopFatally(log: Logger, what: string, err: unknown): never {
  log.error(what, { err });
  process.exit(FATAL_EXIT_CODE);
}
