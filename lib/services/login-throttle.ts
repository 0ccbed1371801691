/**
 * Failed log-ins, counted in the store so that every frontend sees the same counts: one
 * counter per username and one per client address, each over a fixed window. Every attempt is
 * counted as a failure before its password is checked (a reservation), so parallel attempts
 * cannot outrun the count. Past the limit, log-ins for that name (or from that address) are
 * refused without checking the password until the window ends. A success clears the
 * username's counter and takes back its own reservation from the address, not the address's
 * other failures, so one valid account does not reset an address that is guessing at others.
 */
import { PennError } from '../protocol/errors.js';
import { casUpdate } from './cas-update.js';
import { decodeRecord, encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { rowKey } from './row-keys.js';

/** Failed log-ins allowed per username in one window. */
export const LOGIN_FAILURES_PER_USER_MAX = 5;
/** Failed log-ins allowed per client address in one window (several users behind one NAT). */
export const LOGIN_FAILURES_PER_ADDRESS_MAX = 20;
/** Length of the counting window. */
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

const COLUMN = 'failures';

interface FailureWindow {
  startMs: number;
  failures: number;
}

/** How many failures are allowed per username and per address, and over what window. */
export interface ThrottleLimits {
  perUserMax: number;
  perAddressMax: number;
  windowMs: number;
}

/** The limits the frontends use. */
export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  perUserMax: LOGIN_FAILURES_PER_USER_MAX,
  perAddressMax: LOGIN_FAILURES_PER_ADDRESS_MAX,
  windowMs: LOGIN_WINDOW_MS,
};

/** Failed log-in counters in the store, shared by every frontend. */
export class LoginThrottle {
  /**
   * @param scope keeps these counters apart from others of the same names: '' for log-ins,
   *   'share' for the passwords of share links (a visitor guessing those locks no account)
   */
  constructor(
    private readonly kv: KvTable,
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
    private readonly now: () => number = Date.now,
    private readonly scope: '' | 'share' = '',
  ) {}

  /**
   * Reserves one attempt for `username` from `address` before its password is checked: both
   * failure counters rise by one with a compare-and-put, and a counter already at its limit
   * refuses (RATE_LIMITED) and stays as it is. Because the count rises before the check, a
   * burst of parallel guesses cannot all read "under the limit" and all be checked; at most
   * the limit get through in a window. Follow a successful check with `recordSuccess`.
   */
  async reserve(username: string, address: string): Promise<void> {
    const what = this.scope === 'share' ? 'too many wrong passwords for this link' : `too many failed log-ins for "${username}"`;
    await this.claim(userRow(this.scope, username), this.limits.perUserMax, what, 'USER_LOCKED');
    try {
      await this.claim(addressRow(this.scope, address), this.limits.perAddressMax, `too many failed ${this.scope === 'share' ? 'passwords' : 'log-ins'} from this address`, 'ADDRESS_LOCKED');
    } catch (err) {
      // The address refused: the name's reservation was for an attempt that never happens.
      await this.release(userRow(this.scope, username));
      throw err;
    }
  }

  /**
   * After a successful check: clears the username's failures and gives the address back the
   * attempt `reserve` took from it, so signing in often from one address never locks it.
   */
  async recordSuccess(username: string, address: string): Promise<void> {
    await Promise.all([this.kv.delete(userRow(this.scope, username), COLUMN), this.release(addressRow(this.scope, address))]);
  }

  private live(window: FailureWindow | null, nowMs: number): number {
    return window === null || nowMs - window.startMs >= this.limits.windowMs ? 0 : window.failures;
  }

  private refusal(what: string, window: FailureWindow, nowMs: number, reason: string): PennError {
    const waitSeconds = Math.max(1, Math.ceil((window.startMs + this.limits.windowMs - nowMs) / 1000));
    return new PennError('RATE_LIMITED', `${what}; try again in ${waitSeconds} s`, { reason });
  }

  /** Adds one to the counter in `row`, or throws RATE_LIMITED when it is at `max`. */
  private async claim(row: string, max: number, what: string, reason: string): Promise<void> {
    await casUpdate(this.kv, row, COLUMN, (current) => {
      const nowMs = this.now();
      const window = current === null ? null : decodeWindow(current);
      if (window !== null && this.live(window, nowMs) >= max) throw this.refusal(what, window, nowMs, reason);
      const next: FailureWindow = window === null || this.live(window, nowMs) === 0
        ? { startMs: nowMs, failures: 1 }
        : { startMs: window.startMs, failures: window.failures + 1 };
      return { next: encodeRecord(next), result: undefined };
    });
  }

  /** Takes back one reservation from the counter in `row` (none when its window is over). */
  private async release(row: string): Promise<void> {
    await casUpdate(this.kv, row, COLUMN, (current) => {
      const window = current === null ? null : decodeWindow(current);
      if (window === null || this.live(window, this.now()) === 0) return { skip: true, result: undefined };
      return { next: encodeRecord({ startMs: window.startMs, failures: window.failures - 1 }), result: undefined };
    });
  }
}

function userRow(scope: string, username: string): string {
  return rowKey('throttle', `${scope === '' ? '' : `${scope}-`}user:${username}`);
}

function addressRow(scope: string, address: string): string {
  return rowKey('throttle', `${scope === '' ? '' : `${scope}-`}address:${address}`);
}

function decodeWindow(bytes: Buffer): FailureWindow {
  return decodeRecord<FailureWindow>(bytes, 'log-in failure window',
    (v) => Number.isSafeInteger(v.startMs) && Number.isSafeInteger(v.failures));
}
