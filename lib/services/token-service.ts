/**
 * Personal access tokens: a secret a user makes for scripts and `curl`, used instead of a
 * session cookie (`Authorization: Bearer TOKEN`, or Basic with the username and the token).
 *
 * A token reads `pct_<id>_<secret>`: the id (64 random bits, hex) names its cell
 * `<spread>:token:<id>` / `token`, which holds the owner, the scope and a SHA-256 of the
 * secret (192 random bits), never the secret itself. Whoever reads the store, or a backup,
 * cannot use a token. The owner's row `<spread>:tokens:<username>` has one column per token id
 * so the account page can list them. A token is shown once, when it is made; revoking deletes
 * its cell first, so it stops working before it leaves the list.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { PennError } from '../protocol/errors.js';
import { checkExpiryDays } from './expiry-days.js';
import { decodeRecord, encodeRecord } from './json-record.js';
import type { KvTable } from './kv-table.js';
import { rowKey } from './row-keys.js';

/** Tokens one user may hold at once: a script each is plenty, and the list stays one page. */
export const TOKENS_PER_USER_MAX = 20;
/** Characters of a token's name. */
export const TOKEN_NAME_CHARS_MAX = 64;
/** Longest lifetime a token can be given, in days (one year); no expiry is also allowed. */
export const TOKEN_EXPIRY_DAYS_MAX = 365;
/**
 * Longest time between two writes of a token's last-used time: a request refreshes it only when
 * it is older than this, so a script is not one store write per request.
 */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000;
/** Bytes of randomness in a token's id and in its secret. */
export const TOKEN_ID_BYTES = 8;
export const TOKEN_SECRET_BYTES = 24;

const DAY_MS = 24 * 60 * 60 * 1000;
const TOKEN_COLUMN = 'token';
const TOKEN_TEXT = /^pct_([0-9a-f]{16})_([A-Za-z0-9_-]{32})$/;
const TOKEN_ID = /^[0-9a-f]{16}$/;

/** What a token allows: only reading (GET and HEAD), or everything its owner can do. */
export type TokenScope = 'read' | 'read-write';
const SCOPES: readonly TokenScope[] = ['read', 'read-write'];

/** A token as stored in its cell. */
interface TokenRecord {
  username: string;
  name: string;
  scope: TokenScope;
  createdMs: number;
  /** When it stops working, or null for never. */
  expiresMs: number | null;
  lastUsedMs: number | null;
  /** SHA-256 of the secret, hex. */
  secretHash: string;
}

/** What the API shows of a token (never its secret). */
export interface TokenView {
  id: string;
  name: string;
  scope: TokenScope;
  createdMs: number;
  expiresMs: number | null;
  lastUsedMs: number | null;
}

/** The caller a valid token stands for. */
export interface TokenCaller {
  username: string;
  tokenId: string;
  scope: TokenScope;
  createdMs: number;
  expiresMs: number | null;
}

/** Creates, lists, checks and revokes personal access tokens. */
export class TokenService {
  constructor(private readonly kv: KvTable, private readonly now: () => number = Date.now) {}

  /**
   * Makes a token for `username`; returns its view and the token text, which is shown once.
   * BAD_REQUEST names a bad name, scope or expiry; CONFLICT (reason TOO_MANY_TOKENS) past
   * TOKENS_PER_USER_MAX.
   */
  async create(username: string, input: { name?: unknown; scope?: unknown; expiresInDays?: unknown }): Promise<{ token: TokenView; secret: string }> {
    const name = checkTokenName(input.name);
    const scope = checkScope(input.scope);
    const expiresInDays = checkExpiryDays(input.expiresInDays, TOKEN_EXPIRY_DAYS_MAX, 'BAD_TOKEN_EXPIRY');
    const listed = await this.kv.listColumns(listRow(username), { limit: TOKENS_PER_USER_MAX });
    if (listed.columns.length >= TOKENS_PER_USER_MAX) {
      throw new PennError('CONFLICT', `you already have ${TOKENS_PER_USER_MAX} tokens, the most one account may hold; revoke one first`, { reason: 'TOO_MANY_TOKENS' });
    }
    const id = randomBytes(TOKEN_ID_BYTES).toString('hex');
    const secret = randomBytes(TOKEN_SECRET_BYTES).toString('base64url');
    const nowMs = this.now();
    const record: TokenRecord = {
      username, name, scope, createdMs: nowMs, lastUsedMs: null,
      expiresMs: expiresInDays === null ? null : nowMs + expiresInDays * DAY_MS,
      secretHash: hashSecret(secret),
    };
    // Listed first: a crash in between leaves a listed token that does not work (revoke tidies
    // it), never a working token its owner cannot see.
    await this.kv.put(listRow(username), id, Buffer.alloc(0));
    const outcome = await this.kv.cput(tokenRow(id), TOKEN_COLUMN, null, encodeRecord(record));
    if (!outcome.ok) throw new Error('token id collision');
    return { token: viewOf(id, record), secret: `pct_${id}_${secret}` };
  }

  /** The tokens of `username`, oldest first. */
  async list(username: string): Promise<TokenView[]> {
    const listed = await this.kv.listColumns(listRow(username), { limit: TOKENS_PER_USER_MAX });
    const views: TokenView[] = [];
    for (const { column: id } of listed.columns) {
      const bytes = TOKEN_ID.test(id) ? await this.kv.get(tokenRow(id), TOKEN_COLUMN) : null;
      // A listed id whose cell is gone is a revoke or create cut short (or one in progress): it
      // does not work, so it is not shown; revoking its id still tidies it away.
      if (bytes === null) continue;
      const record = decodeToken(bytes);
      if (record.username === username) views.push(viewOf(id, record));
    }
    return views.sort((a, b) => a.createdMs - b.createdMs || a.id.localeCompare(b.id));
  }

  /** Revokes token `id` of `username`; NOT_FOUND when `username` has no such token. */
  async revoke(username: string, id: string): Promise<void> {
    if (!TOKEN_ID.test(id)) throw notFound(id);
    const row = tokenRow(id);
    const bytes = await this.kv.get(row, TOKEN_COLUMN);
    const listed = (await this.kv.get(listRow(username), id)) !== null;
    if (bytes !== null) {
      if (decodeToken(bytes).username !== username) throw notFound(id);
      await this.kv.delete(row, TOKEN_COLUMN);
    } else if (!listed) {
      throw notFound(id);
    }
    await this.kv.delete(listRow(username), id);
  }

  /**
   * The caller that token text `text` stands for, or null when it is not a live token (malformed,
   * unknown, revoked, expired, or a wrong secret). `username`, when given (Basic), must be the
   * owner. Refreshes the last-used time now and then.
   */
  async authenticate(text: string, username: string | null): Promise<TokenCaller | null> {
    const match = TOKEN_TEXT.exec(text);
    if (match === null) return null;
    const [, id, secret] = match as unknown as [string, string, string];
    const row = tokenRow(id);
    const bytes = await this.kv.get(row, TOKEN_COLUMN);
    if (bytes === null) return null;
    const record = decodeToken(bytes);
    const given = Buffer.from(hashSecret(secret), 'hex');
    const stored = Buffer.from(record.secretHash, 'hex');
    if (given.length !== stored.length || !timingSafeEqual(given, stored)) return null;
    if (username !== null && username !== record.username) return null;
    const nowMs = this.now();
    if (record.expiresMs !== null && nowMs >= record.expiresMs) return null;
    if (record.lastUsedMs === null || nowMs - record.lastUsedMs >= TOKEN_TOUCH_INTERVAL_MS) {
      // CPUT against what was read: a revoke that deleted the cell meanwhile is not undone.
      await this.kv.cput(row, TOKEN_COLUMN, bytes, encodeRecord({ ...record, lastUsedMs: nowMs }));
    }
    return { username: record.username, tokenId: id, scope: record.scope, createdMs: record.createdMs, expiresMs: record.expiresMs };
  }
}

/** True when `text` has the shape of a token (so a password given by mistake can be told apart). */
export function looksLikeToken(text: string): boolean {
  return TOKEN_TEXT.test(text);
}

function tokenRow(id: string): string {
  return rowKey('token', id);
}

function listRow(username: string): string {
  return rowKey('tokens', username);
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function notFound(id: string): PennError {
  return new PennError('NOT_FOUND', `you have no token with id "${id.slice(0, 32)}"`, { reason: 'NO_SUCH_TOKEN' });
}

function viewOf(id: string, record: TokenRecord): TokenView {
  return { id, name: record.name, scope: record.scope, createdMs: record.createdMs, expiresMs: record.expiresMs, lastUsedMs: record.lastUsedMs };
}

function checkTokenName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : '';
  if (name === '' || [...name].length > TOKEN_NAME_CHARS_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new PennError('BAD_REQUEST', `a token needs a name of 1 to ${TOKEN_NAME_CHARS_MAX} characters without control characters (say what it is for, e.g. "backup script")`,
      { reason: 'BAD_TOKEN_NAME' });
  }
  return name;
}

function checkScope(value: unknown): TokenScope {
  if (value === undefined) return 'read-write';
  if (typeof value === 'string' && (SCOPES as readonly string[]).includes(value)) return value as TokenScope;
  throw new PennError('BAD_REQUEST', `scope must be "read" or "read-write"`, { reason: 'BAD_TOKEN_SCOPE' });
}

function decodeToken(bytes: Buffer): TokenRecord {
  return decodeRecord<TokenRecord>(bytes, 'token', (v) => typeof v.username === 'string' && typeof v.name === 'string'
    && (SCOPES as readonly unknown[]).includes(v.scope) && Number.isSafeInteger(v.createdMs)
    && (v.expiresMs === null || Number.isSafeInteger(v.expiresMs)) && (v.lastUsedMs === null || Number.isSafeInteger(v.lastUsedMs))
    && typeof v.secretHash === 'string' && /^[0-9a-f]{64}$/.test(v.secretHash));
}
