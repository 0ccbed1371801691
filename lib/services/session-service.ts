/**
 * Sessions: a random 128-bit id naming one cell in the store, so that any frontend serves any
 * user and a session outlives the frontend that made it. A session ends when it is idle past
 * the idle timeout, when it reaches its absolute lifetime, on log-out, and when its account's
 * session epoch moves on (a password change).
 */
import { createHash, randomBytes } from 'node:crypto';
import { decodeRecord, encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { rowKey } from './row-keys.js';
import type { Account, UserService } from './user-service.js';

/** Bytes of randomness in a session id (128 bits, as hex in the cookie). */
export const SESSION_ID_BYTES = 16;
const SESSION_ID = /^[0-9a-f]{32}$/;
const SESSION_COLUMN = 'session';

/**
 * Longest time between two writes of a session's last-seen time: a request refreshes it only
 * when it is older than this (or a quarter of the idle timeout, if that is shorter), so
 * browsing is not one store write per request.
 */
export const SESSION_TOUCH_INTERVAL_MS_MAX = 60_000;

/** Session lifetimes (conf `sessions`). */
export interface SessionTimeouts {
  /** A session unused this long ends. */
  idleTimeoutMs: number;
  /** A session ends this long after it began, however busy. */
  absoluteTimeoutMs: number;
}

/** A session as stored. */
interface SessionRecord {
  username: string;
  createdMs: number;
  lastSeenMs: number;
  sessionEpoch: number;
}

/** A live session, as middleware hands it to handlers. */
export interface Session {
  id: string;
  username: string;
  createdMs: number;
  /** When the session ends at the latest (absolute expiry). */
  expiresMs: number;
}

/** Creates, checks and ends sessions. */
export class SessionService {
  constructor(
    private readonly kv: KvTable,
    private readonly users: UserService,
    private readonly timeouts: SessionTimeouts,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a session for an account that just proved its password. */
  async create(account: Account): Promise<Session> {
    const id = randomBytes(SESSION_ID_BYTES).toString('hex');
    const nowMs = this.now();
    const record: SessionRecord = { username: account.username, createdMs: nowMs, lastSeenMs: nowMs, sessionEpoch: account.sessionEpoch };
    const outcome = await this.kv.cput(sessionRow(id), SESSION_COLUMN, null, encodeRecord(record));
    // 128 random bits do not collide; if they did, handing out the other session would be worse.
    if (!outcome.ok) throw new Error('session id collision');
    return this.toSession(id, record);
  }

  /**
   * The live session named `id`, or null (unknown, malformed, expired, or ended by a password
   * change). Expired sessions found here are deleted. Refreshes the last-seen time now and then.
   */
  async resolve(id: string): Promise<Session | null> {
    if (!SESSION_ID.test(id)) return null;
    const row = sessionRow(id);
    const bytes = await this.kv.get(row, SESSION_COLUMN);
    if (bytes === null) return null;
    const record = decodeSession(bytes);
    const nowMs = this.now();
    const expired = nowMs - record.lastSeenMs >= this.timeouts.idleTimeoutMs
      || nowMs - record.createdMs >= this.timeouts.absoluteTimeoutMs;
    const account = expired ? null : await this.users.find(record.username);
    if (account === null || account.sessionEpoch !== record.sessionEpoch) {
      await this.kv.delete(row, SESSION_COLUMN);
      return null;
    }
    const touchMs = Math.min(SESSION_TOUCH_INTERVAL_MS_MAX, Math.floor(this.timeouts.idleTimeoutMs / 4));
    if (nowMs - record.lastSeenMs >= touchMs) {
      // CPUT against what was read: a log-out that deleted the cell meanwhile is not undone.
      await this.kv.cput(row, SESSION_COLUMN, bytes, encodeRecord({ ...record, lastSeenMs: nowMs }));
    }
    return this.toSession(id, record);
  }

  /** Ends a session (log-out); ending an unknown one is not an error. */
  async destroy(id: string): Promise<void> {
    if (!SESSION_ID.test(id)) return;
    await this.kv.delete(sessionRow(id), SESSION_COLUMN);
  }

  /** Seconds a fresh session's cookie should live (its absolute lifetime). */
  get cookieMaxAgeSeconds(): number {
    return Math.floor(this.timeouts.absoluteTimeoutMs / 1000);
  }

  private toSession(id: string, record: SessionRecord): Session {
    return { id, username: record.username, createdMs: record.createdMs, expiresMs: record.createdMs + this.timeouts.absoluteTimeoutMs };
  }
}

/**
 * The row of session `id`: named by a hash of the id, so that whoever reads the store (the
 * admin console's raw pages, a backup) sees no id that could be replayed as a cookie.
 */
function sessionRow(id: string): string {
  return rowKey('session', createHash('sha256').update(id).digest('hex'));
}

function decodeSession(bytes: Buffer): SessionRecord {
  return decodeRecord<SessionRecord>(bytes, 'session', (v) => typeof v.username === 'string'
    && Number.isSafeInteger(v.createdMs) && Number.isSafeInteger(v.lastSeenMs) && Number.isSafeInteger(v.sessionEpoch));
}
