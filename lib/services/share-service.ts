/**
 * Share links: a file or folder of someone's drive, readable by whoever has the link. A link is
 * a random token (128 bits) naming the cell `<spread>:share:<token>` / `share`, which holds the
 * owner, the node id (so the link follows renames and moves, and stops while the node is in
 * the trash), an optional expiry and an optional password (scrypt, as account passwords). The
 * owner's row `<spread>:shares:<owner>` lists the tokens. Revoking deletes the cell first.
 *
 * A password is checked once per visitor: the reply carries an unlock proof (the token, an
 * expiry and an HMAC over them and the password's salt, keyed from the cluster secret), which
 * every frontend can check without the store and which dies with a new password or the link.
 * Wrong passwords are counted per link and per address, apart from log-in failures.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PennError } from '../protocol/errors.js';
import { checkExpiryDays } from './expiry-days.js';
import { decodeRecord, encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { LoginThrottle } from './login-throttle.js';
import { hashPassword, verifyPassword, type PasswordHash } from './password-hash.js';
import { rowKey } from './row-keys.js';
import type { ReadOnlyTree, Volume } from './storage-service.js';

/** Links one user may have at once. */
export const SHARES_PER_USER_MAX = 100;
/** Longest lifetime a link can be given, in days; no expiry is also allowed. */
export const SHARE_EXPIRY_DAYS_MAX = 365;
/** Characters of a link's password. */
export const SHARE_PASSWORD_CHARS_MIN = 4;
export const SHARE_PASSWORD_CHARS_MAX = 256;
/** How long a visitor who gave the right password may use the link before giving it again. */
export const SHARE_UNLOCK_MS = 12 * 60 * 60 * 1000;
/** Wrong passwords per link, and per address over all links, in a window of 15 minutes. */
export const SHARE_PASSWORD_FAILURES_PER_LINK_MAX = 10;
export const SHARE_PASSWORD_FAILURES_PER_ADDRESS_MAX = 30;
export const SHARE_PASSWORD_WINDOW_MS = 15 * 60 * 1000;
/** Bytes of randomness in a link's token. */
export const SHARE_TOKEN_BYTES = 16;

const DAY_MS = 24 * 60 * 60 * 1000;
const SHARE_COLUMN = 'share';
const TOKEN = /^[A-Za-z0-9_-]{22}$/;

/** A link as stored. */
interface ShareRecord {
  owner: string;
  nodeId: string;
  type: 'file' | 'folder';
  /** The node's name when the link was made (the owner's list shows the current path too). */
  name: string;
  createdMs: number;
  expiresMs: number | null;
  password: PasswordHash | null;
}

/** What the owner sees of a link. */
export interface ShareView {
  token: string;
  /** The link's path on the dispatcher or any frontend. */
  url: string;
  type: 'file' | 'folder';
  name: string;
  /** Where the node is now, or null while it is in the trash or gone. */
  path: string | null;
  createdMs: number;
  expiresMs: number | null;
  hasPassword: boolean;
}

/** A link opened by a visitor: what it shows and the tree to read it from. */
export interface OpenedShare {
  type: 'file' | 'folder';
  name: string;
  expiresMs: number | null;
  tree: ReadOnlyTree;
}

/** The owner's drive volume, which the service reads shared nodes from. */
export type DriveVolumes = (owner: string) => Volume;

export class ShareService {
  private readonly throttle: LoginThrottle;

  /** @param unlockKey the key of unlock proofs (derived from the cluster secret, the same on every frontend) */
  constructor(
    private readonly kv: KvTable,
    private readonly drives: DriveVolumes,
    private readonly unlockKey: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    this.throttle = new LoginThrottle(kv, {
      perUserMax: SHARE_PASSWORD_FAILURES_PER_LINK_MAX, perAddressMax: SHARE_PASSWORD_FAILURES_PER_ADDRESS_MAX, windowMs: SHARE_PASSWORD_WINDOW_MS,
    }, now, 'share');
  }

  /** Makes a link to the node at `path` of `owner`'s drive. */
  async create(owner: string, path: unknown, input: { expiresInDays?: unknown; password?: unknown }): Promise<ShareView> {
    if (typeof path !== 'string') throw new PennError('BAD_REQUEST', 'the body must name the "path" of a file or folder to share', { reason: 'BAD_PATH' });
    const expiresInDays = checkExpiryDays(input.expiresInDays, SHARE_EXPIRY_DAYS_MAX, 'BAD_SHARE_EXPIRY');
    const password = checkSharePassword(input.password);
    const node = await this.drives(owner).stat(path);
    if (node.path === '/') throw new PennError('BAD_REQUEST', 'the whole drive cannot be shared; share a folder in it', { reason: 'ROOT' });
    const listed = await this.kv.listColumns(listRow(owner), { limit: SHARES_PER_USER_MAX });
    if (listed.columns.length >= SHARES_PER_USER_MAX) {
      throw new PennError('CONFLICT', `you already have ${SHARES_PER_USER_MAX} share links, the most one account may hold; revoke one first`, { reason: 'TOO_MANY_SHARES' });
    }
    const token = randomBytes(SHARE_TOKEN_BYTES).toString('base64url');
    const nowMs = this.now();
    const record: ShareRecord = {
      owner, nodeId: node.id, type: node.type, name: node.name, createdMs: nowMs,
      expiresMs: expiresInDays === null ? null : nowMs + expiresInDays * DAY_MS,
      password: password === null ? null : await hashPassword(password),
    };
    await this.kv.put(listRow(owner), token, Buffer.alloc(0));
    const outcome = await this.kv.cput(shareRow(token), SHARE_COLUMN, null, encodeRecord(record));
    if (!outcome.ok) throw new Error('share token collision');
    return this.viewOf(token, record, node.path);
  }

  /** `owner`'s links, newest first, each with where its node is now. */
  async list(owner: string): Promise<ShareView[]> {
    const listed = await this.kv.listColumns(listRow(owner), { limit: SHARES_PER_USER_MAX });
    const drive = this.drives(owner);
    const views: ShareView[] = [];
    for (const { column: token } of listed.columns) {
      const record = TOKEN.test(token) ? await this.record(token) : null;
      // A listed token without its cell is a revoke or create cut short: it works for no one.
      if (record === null || record.owner !== owner) continue;
      views.push(this.viewOf(token, record, await drive.pathOf(record.nodeId)));
    }
    return views.sort((a, b) => b.createdMs - a.createdMs || a.token.localeCompare(b.token));
  }

  /** Revokes `owner`'s link `token`; NOT_FOUND when `owner` has no such link. */
  async revoke(owner: string, token: string): Promise<void> {
    if (!TOKEN.test(token)) throw noShareOf(token);
    const record = await this.record(token);
    const listed = (await this.kv.get(listRow(owner), token)) !== null;
    if (record !== null) {
      if (record.owner !== owner) throw noShareOf(token);
      await this.kv.delete(shareRow(token), SHARE_COLUMN);
    } else if (!listed) {
      throw noShareOf(token);
    }
    await this.kv.delete(listRow(owner), token);
  }

  /**
   * Opens link `token` for a visitor holding unlock proof `proof` (or none). NOT_FOUND for a
   * link that does not work (unknown, revoked, expired, or its node gone or in the trash: the
   * visitor is not told which); UNAUTHENTICATED (reason SHARE_LOCKED) when it needs its password.
   */
  async open(token: string, proof: string | null): Promise<OpenedShare> {
    const record = await this.liveRecord(token);
    if (record.password !== null && !this.proofHolds(token, record.password, proof)) {
      throw new PennError('UNAUTHENTICATED', 'this link is protected by a password', { reason: 'SHARE_LOCKED' });
    }
    const tree = await this.drives(record.owner).below(record.nodeId).catch((err: unknown) => {
      throw err instanceof PennError && err.code === 'NOT_FOUND' ? noLink() : err;
    });
    return { type: record.type, name: tree.base.name, expiresMs: record.expiresMs, tree };
  }

  /**
   * Checks a visitor's password for link `token`; returns the unlock proof to send back with
   * each request, and when it stops working. 401 (BAD_SHARE_PASSWORD) for a wrong one, 429
   * after too many.
   */
  async unlock(token: string, password: unknown, remoteAddress: string): Promise<{ proof: string; expiresMs: number }> {
    const record = await this.liveRecord(token);
    if (record.password === null) throw new PennError('BAD_REQUEST', 'this link has no password', { reason: 'NO_SHARE_PASSWORD' });
    if (typeof password !== 'string' || password.length === 0 || password.length > SHARE_PASSWORD_CHARS_MAX) {
      throw new PennError('BAD_REQUEST', 'send the link\'s password as {"password": "..."}', { reason: 'BAD_SHARE_PASSWORD' });
    }
    await this.throttle.reserve(token, remoteAddress);
    if (!await verifyPassword(password, record.password)) {
      throw new PennError('UNAUTHENTICATED', 'wrong password for this link', { reason: 'BAD_SHARE_PASSWORD' });
    }
    await this.throttle.recordSuccess(token, remoteAddress);
    const expiresMs = Math.min(this.now() + SHARE_UNLOCK_MS, record.expiresMs ?? Number.MAX_SAFE_INTEGER);
    return { proof: `${expiresMs}.${this.proofMac(token, record.password, expiresMs)}`, expiresMs };
  }

  private async record(token: string): Promise<ShareRecord | null> {
    const bytes = await this.kv.get(shareRow(token), SHARE_COLUMN);
    return bytes === null ? null : decodeShare(bytes);
  }

  private async liveRecord(token: string): Promise<ShareRecord> {
    const record = TOKEN.test(token) ? await this.record(token) : null;
    if (record === null || (record.expiresMs !== null && this.now() >= record.expiresMs)) throw noLink();
    return record;
  }

  private proofMac(token: string, password: PasswordHash, expiresMs: number): string {
    return createHmac('sha256', this.unlockKey).update(`${token}\n${expiresMs}\n${password.salt}`).digest('base64url');
  }

  private proofHolds(token: string, password: PasswordHash, proof: string | null): boolean {
    const match = proof === null ? null : /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(proof);
    if (match === null) return false;
    const expiresMs = Number(match[1]);
    if (this.now() >= expiresMs) return false;
    const given = Buffer.from(match[2]!);
    const expected = Buffer.from(this.proofMac(token, password, expiresMs));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private viewOf(token: string, record: ShareRecord, path: string | null): ShareView {
    return {
      token, url: `/s/${token}`, type: record.type, name: path === null ? record.name : path.slice(path.lastIndexOf('/') + 1),
      path, createdMs: record.createdMs, expiresMs: record.expiresMs, hasPassword: record.password !== null,
    };
  }
}

/** The key of share unlock proofs, derived from the cluster secret (never the secret itself). */
export function shareUnlockKey(clusterSecret: Buffer): Buffer {
  return createHmac('sha256', clusterSecret).update('penncloud share unlock proof').digest();
}

function shareRow(token: string): string {
  return rowKey('share', token);
}

function listRow(owner: string): string {
  return rowKey('shares', owner);
}

function noLink(): PennError {
  return new PennError('NOT_FOUND', 'this link does not work: it may have been revoked, have expired, or be mistyped', { reason: 'NO_SUCH_SHARE' });
}

function noShareOf(token: string): PennError {
  return new PennError('NOT_FOUND', `you have no share link "${token.slice(0, 40)}"`, { reason: 'NO_SUCH_SHARE' });
}

function checkSharePassword(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string' && value.length >= SHARE_PASSWORD_CHARS_MIN && value.length <= SHARE_PASSWORD_CHARS_MAX) return value;
  throw new PennError('BAD_REQUEST', `a link's password is ${SHARE_PASSWORD_CHARS_MIN} to ${SHARE_PASSWORD_CHARS_MAX} characters (or none)`,
    { reason: 'BAD_SHARE_PASSWORD' });
}

function decodeShare(bytes: Buffer): ShareRecord {
  return decodeRecord<ShareRecord>(bytes, 'share link', (v) => typeof v.owner === 'string' && typeof v.nodeId === 'string'
    && (v.type === 'file' || v.type === 'folder') && typeof v.name === 'string' && Number.isSafeInteger(v.createdMs)
    && (v.expiresMs === null || Number.isSafeInteger(v.expiresMs)) && (v.password === null || typeof v.password === 'object'));
}
