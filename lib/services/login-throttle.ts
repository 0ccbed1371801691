/**
 * Failed log-ins, counted in the store so that every frontend sees the same counts: one
 * counter per username and one per client address, each over a fixed window. Past the limit,
 * log-ins for that name (or from that address) are refused without checking the password
 * until the window ends. A success clears the username's counter, not the address's, so one
 * valid account does not reset an address that is guessing at others.
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
  constructor(
    private readonly kv: KvTable,
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws RATE_LIMITED when `username` or `address` has used up its failures. */
  async check(username: string, address: string): Promise<void> {
    const [user, from] = await Promise.all([this.read(userRow(username)), this.read(addressRow(address))]);
    const nowMs = this.now();
    if (this.live(user, nowMs) >= this.limits.perUserMax) {
      throw this.refusal(`too many failed log-ins for "${username}"`, user!, nowMs, 'USER_LOCKED');
    }
    if (this.live(from, nowMs) >= this.limits.perAddressMax) {
      throw this.refusal('too many failed log-ins from this address', from!, nowMs, 'ADDRESS_LOCKED');
    }
  }

  /** Counts one failure against both the username and the address. */
  async recordFailure(username: string, address: string): Promise<void> {
    await Promise.all([this.bump(userRow(username)), this.bump(addressRow(address))]);
  }

  /** Clears the username's failures after a successful log-in. */
  async recordSuccess(username: string): Promise<void> {
    await this.kv.delete(userRow(username), COLUMN);
  }

  private async read(row: string): Promise<FailureWindow | null> {
    const bytes = await this.kv.get(row, COLUMN);
    return bytes === null ? null : decodeWindow(bytes);
  }

  private live(window: FailureWindow | null, nowMs: number): number {
    return window === null || nowMs - window.startMs >= this.limits.windowMs ? 0 : window.failures;
  }

  private refusal(what: string, window: FailureWindow, nowMs: number, reason: string): PennError {
    const waitSeconds = Math.max(1, Math.ceil((window.startMs + this.limits.windowMs - nowMs) / 1000));
    return new PennError('RATE_LIMITED', `${what}; try again in ${waitSeconds} s`, { reason });
  }

  private async bump(row: string): Promise<void> {
    await casUpdate(this.kv, row, COLUMN, (current) => {
      const nowMs = this.now();
      const window = current === null ? null : decodeWindow(current);
      const next: FailureWindow = window === null || nowMs - window.startMs >= this.limits.windowMs
        ? { startMs: nowMs, failures: 1 }
        : { startMs: window.startMs, failures: window.failures + 1 };
      return { next: encodeRecord(next), result: undefined };
    });
  }
}

function userRow(username: string): string {
  return rowKey('throttle', `user:${username}`);
}

function addressRow(address: string): string {
  return rowKey('throttle', `address:${address}`);
}

function decodeWindow(bytes: Buffer): FailureWindow {
  return decodeRecord<FailureWindow>(bytes, 'log-in failure window',
    (v) => Number.isSafeInteger(v.startMs) && Number.isSafeInteger(v.failures));
}
