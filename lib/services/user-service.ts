/**
 * Accounts: sign-up, log-in checks and password changes. An account is one cell,
 * `<spread>:user:<name>` / `account`, created with a create-if-absent CPUT so that of two
 * racing sign-ups for one name exactly one wins. Every change after that is a CPUT against the
 * value read, so a password change never overwrites a concurrent one silently.
 */
import { PennError } from '../protocol/errors.js';
import {
  canonicalUsername, checkGivenPassword, checkNewPassword, checkUsernameAvailableForSignUp,
} from './account-rules.js';
import { decodeRecord, encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { LoginThrottle } from './login-throttle.js';
import { decoyHash, hashPassword, verifyPassword, type PasswordHash } from './password-hash.js';
import { rowKey } from './row-keys.js';

const ACCOUNT_COLUMN = 'account';

/** An account as stored. */
export interface Account {
  username: string;
  createdMs: number;
  password: PasswordHash;
  /**
   * Raised by every password change. A session remembers the epoch it was made in and ends
   * when the account's epoch moves on, which is how "other sessions end" holds across
   * frontends without a list of sessions to keep in step.
   */
  sessionEpoch: number;
}

/** What the API shows of an account. */
export interface AccountView {
  username: string;
  createdMs: number;
}

/** The row of an account (mail and drive use the name, never this row). */
export function accountRow(username: string): string {
  return rowKey('user', username);
}

/** Accounts: sign-up, log-in checks, password changes. */
export class UserService {
  /**
   * @param admins the names of conf `admins`: being one of them makes an account an
   *   administrator, so public sign-up refuses them and only `createAdmin` makes them
   */
  constructor(
    private readonly kv: KvTable,
    private readonly throttle: LoginThrottle,
    private readonly now: () => number = Date.now,
    private readonly admins: readonly string[] = [],
  ) {}

  /**
   * Creates an account; CONFLICT (reason NAME_TAKEN) when the name exists, FORBIDDEN (reason
   * ADMIN_NAME) for a name of conf `admins`, which whoever signed up first would otherwise own.
   */
  async signUp(usernameInput: unknown, passwordInput: unknown): Promise<AccountView> {
    const username = canonicalUsername(usernameInput);
    checkUsernameAvailableForSignUp(username);
    if (this.admins.includes(username)) {
      throw new PennError('FORBIDDEN', `the username "${username}" is kept for an administrator; an operator creates it with "penncloud admin add"`,
        { reason: 'ADMIN_NAME' });
    }
    return this.create(username, passwordInput);
  }

  /**
   * Creates the account of an administrator (`penncloud admin add`): the name must be one of
   * conf `admins` (FORBIDDEN, reason NOT_ADMIN_NAME, otherwise); CONFLICT when it exists.
   */
  async createAdmin(usernameInput: unknown, passwordInput: unknown): Promise<AccountView> {
    const username = canonicalUsername(usernameInput);
    if (!this.admins.includes(username)) {
      throw new PennError('FORBIDDEN', `"${username}" is not listed in conf admins; add it there first`, { reason: 'NOT_ADMIN_NAME' });
    }
    return this.create(username, passwordInput);
  }

  private async create(username: string, passwordInput: unknown): Promise<AccountView> {
    const password = checkNewPassword(passwordInput, 'password');
    const account: Account = { username, createdMs: this.now(), password: await hashPassword(password), sessionEpoch: 1 };
    const outcome = await this.kv.cput(accountRow(username), ACCOUNT_COLUMN, null, encodeRecord(account));
    if (!outcome.ok) throw new PennError('CONFLICT', `the username "${username}" is taken`, { reason: 'NAME_TAKEN' });
    return view(account);
  }

  /**
   * Checks a log-in. Refused (RATE_LIMITED) while the name or address is throttled; a wrong
   * name or password is UNAUTHENTICATED with one message for both, so names cannot be probed.
   */
  async logIn(usernameInput: unknown, passwordInput: unknown, address: string): Promise<Account> {
    const password = checkGivenPassword(passwordInput, 'password');
    let username: string;
    try {
      username = canonicalUsername(usernameInput);
    } catch {
      throw badCredentials();
    }
    // The attempt counts as a failure until the password proves right.
    await this.throttle.reserve(username, address);
    const account = await this.find(username);
    const matches = await verifyPassword(password, account?.password ?? await decoyHash());
    if (account === null || !matches) throw badCredentials();
    await this.throttle.recordSuccess(username, address);
    return account;
  }

  /** The account of `username`, or null. */
  async find(username: string): Promise<Account | null> {
    const bytes = await this.kv.get(accountRow(username), ACCOUNT_COLUMN);
    return bytes === null ? null : decodeAccount(bytes);
  }

  /**
   * Changes a password, given the old one, and raises the session epoch so every session of
   * the account ends. Returns the account as stored afterwards (the caller makes a new session
   * for the user who asked).
   */
  async changePassword(username: string, oldInput: unknown, newInput: unknown, address: string): Promise<Account> {
    const oldPassword = checkGivenPassword(oldInput, 'oldPassword');
    const newPassword = checkNewPassword(newInput, 'newPassword');
    await this.throttle.reserve(username, address);
    const row = accountRow(username);
    const bytes = await this.kv.get(row, ACCOUNT_COLUMN);
    if (bytes === null) throw new PennError('UNAUTHENTICATED', 'the account no longer exists');
    const account = decodeAccount(bytes);
    if (!await verifyPassword(oldPassword, account.password)) {
      throw new PennError('FORBIDDEN', 'oldPassword is not the current password', { reason: 'WRONG_PASSWORD' });
    }
    await this.throttle.recordSuccess(username, address);
    const next: Account = { ...account, password: await hashPassword(newPassword), sessionEpoch: account.sessionEpoch + 1 };
    const outcome = await this.kv.cput(row, ACCOUNT_COLUMN, bytes, encodeRecord(next));
    if (!outcome.ok) {
      throw new PennError('CONFLICT', 'the account changed while the password was being changed; try again', { reason: 'CONCURRENT_CHANGE' });
    }
    return next;
  }
}

/** The public view of an account. */
export function view(account: Account): AccountView {
  return { username: account.username, createdMs: account.createdMs };
}

function badCredentials(): PennError {
  return new PennError('UNAUTHENTICATED', 'wrong username or password', { reason: 'BAD_CREDENTIALS' });
}

function decodeAccount(bytes: Buffer): Account {
  return decodeRecord<Account>(bytes, 'account', (v) => typeof v.username === 'string'
    && Number.isSafeInteger(v.sessionEpoch) && typeof v.password?.salt === 'string' && typeof v.password?.hash === 'string');
}
